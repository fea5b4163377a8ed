"""The allowed values of the modelling parameters, each written once: the parameter
schemas (``cryptopythia.parameter_schemas``) type their fields with these aliases and check the
configuration before a run; the model's code reads them here (``allowed``) and never keeps
a list of its own. A map from a choice to its implementation (``SCALERS``, the volatility
``MODELS``) is made with ``covering``, which refuses a map that misses or adds a value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args

# modelling.inputs: gold's columns made scale-free, or the raw levels (model.inputs)
Inputs = Literal["scale_free", "levels"]
# modelling.target: what the network predicts (model.targets)
Target = Literal["close", "diff", "log_return"]
# modelling.scaler: the scaler of the network's inputs and target (model.scaling)
Scaler = Literal["minmax", "standard", "robust"]
# modelling.precision: the Keras dtype policy of training (model.network)
Precision = Literal["auto", "float32", "mixed_bfloat16"]
# modelling.intervals.network.base: the econometric volatility models (model.volatility)
Econometric = Literal["ewma", "garch", "garch_t", "gjr_t", "har_range"]
# modelling.intervals.volatility: the volatility model of the intervals (model.volatility):
# an econometric one, or the network's correction of one
Volatility = Literal[Econometric, "network"]
# modelling.intervals.har_range_estimator: the candle-range variance of har_range
RangeEstimator = Literal["garman_klass", "parkinson"]

Value = TypeVar("Value")


def allowed(choice: Any) -> tuple[Any, ...]:
    """The values a ``Literal`` alias allows, in the order written: for error messages
    and checks that must agree with the schema."""
    return get_args(choice)


def covering(choice: Any, mapping: Mapping[str, Value]) -> dict[str, Value]:
    """``mapping`` as a dict, if its keys are exactly the values ``choice`` allows: an
    implementation map cannot drift from the schema (an error at import if it does)."""
    values = allowed(choice)
    if set(mapping) != set(values):
        raise ValueError(
            f"The map {sorted(mapping)} does not cover the allowed values {list(values)}: "
            "add or remove the value in cryptopythia.model.choices and its map together."
        )
    return dict(mapping)
