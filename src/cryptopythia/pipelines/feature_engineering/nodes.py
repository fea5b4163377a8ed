"""feature_engineering's nodes: the steps of ``cryptopythia.features.build_gold``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import features
from ...features import FeatureConfig


def check_parameters(params: dict[str, Any], interval: str) -> FeatureConfig:
    """Checked ``feature_engineering`` parameters and gold's plan (columns, warm-up) for ``interval``."""
    return features.check_parameters(params, interval)


def check_silver(silver: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Silver's gold columns, after checking its columns, types, holes, order and length."""
    return features.check_silver(silver, config)


def compute_features(candles: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """The candles and every planned feature column, NaN during each one's warm-up."""
    return features.compute_features(candles, config)


def drop_warmup(with_warmup: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Gold: the rows after the warm-up, checked free of NaN/inf."""
    return features.drop_warmup(with_warmup, config)
