"""Silver candles -> gold features: the feature families, their parameters and the gold builder.

``build_gold(silver, params, interval)`` is the whole transformation; its steps are
``check_parameters`` -> ``check_silver`` -> ``compute_features`` -> ``drop_warmup``.
"""

from .errors import FeatureConfigError, SilverInputError
from .gold import build_gold, compute_features, drop_warmup
from .parameters import FeatureConfig, check_parameters
from .silver import check_silver

__all__ = [
    "FeatureConfig",
    "FeatureConfigError",
    "SilverInputError",
    "build_gold",
    "check_parameters",
    "check_silver",
    "compute_features",
    "drop_warmup",
]
