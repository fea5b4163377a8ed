"""Silver candles -> gold features: pure, vectorised, no I/O.

``build_gold(silver, params, interval)`` is the whole transformation, in four steps
(``check_parameters`` -> ``check_silver`` -> ``compute_features`` -> ``drop_warmup``), the
feature_engineering pipeline's nodes; training and serving compute the same features.
Every feature at row ``t`` uses rows ``<= t`` only.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..indicators import log_return
from .errors import FeatureValuesError
from .families import Inputs, TimeParts, definitions
from .parameters import FeatureConfig, check_parameters
from .plan_logging import log_plan
from .silver import check_silver

logger = logging.getLogger(__name__)


def compute_features(candles: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Candles + every enabled feature column (NaN during each feature's warm-up), in the planned order."""
    close = candles["close"].to_numpy()
    inputs = Inputs(
        open_time=candles["open_time"].astype("datetime64[ns, UTC]"),
        high=candles["high"].to_numpy(),
        low=candles["low"].to_numpy(),
        close=close,
        volume=candles["volume"].to_numpy(),
        returns=log_return(close),
    )
    time = TimeParts(config["calendar_parts"], config["fourier_periods"])
    f: dict[str, np.ndarray] = {}
    for definition in definitions(config["params"], time):
        names = [column.name for column in definition.columns]
        f.update(zip(names, definition.compute(inputs), strict=True))
    features = pd.DataFrame(f, index=candles.index, dtype="float64")
    log_plan(
        logger,
        ("columns", config["interval"], *features.columns),
        "Computed %d feature columns: %s",
        features.shape[1],
        ", ".join(features.columns),
    )
    return pd.concat([candles, features], axis=1)


def drop_warmup(features: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Drop the warm-up rows (some feature still undefined) and check that no NaN/inf is left."""
    warmup = config["warmup"]
    gold = features.iloc[warmup:].reset_index(drop=True)
    values = gold[config["columns"]].to_numpy()
    if not np.isfinite(values).all():
        bad = [
            c
            for c, ok in zip(config["columns"], np.isfinite(values).all(axis=0), strict=True)
            if not ok
        ]
        raise FeatureValuesError(
            f"features {bad} are NaN/infinite after the {warmup}-row warm-up: silver holds "
            "values they cannot use (e.g. prices of 0 or inf); repair silver.",
            bad,
        )
    log_plan(
        logger,
        ("warmup", config["interval"], warmup, config["warmup_source"]),
        "Dropped %d warm-up rows of %d (longest window: %s); gold has %d rows x %d columns%s.",
        warmup,
        len(features),
        config["warmup_source"],
        len(gold),
        gold.shape[1],
        f", {gold['open_time'].iloc[0]} .. {gold['open_time'].iloc[-1]}" if len(gold) else "",
    )
    return gold


def build_gold(silver: pd.DataFrame, params: dict[str, Any], interval: str) -> pd.DataFrame:
    """The whole silver -> gold transformation (what the pipeline runs), for training and serving alike.

    The plan (columns, time parts, warm-up) is logged at INFO once per process, at DEBUG when
    built again (a recursive forecast builds gold once per step): ``plan_logging``.
    """
    config = check_parameters(params, interval)
    return drop_warmup(compute_features(check_silver(silver, config), config), config)
