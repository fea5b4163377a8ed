"""Volatility models behind the prediction intervals, chosen by
``modelling.intervals.volatility`` (its allowed values: ``model.choices.Volatility``): each
fits on the training candles to a JSON-able parameter dict (registered with the model and
used as fitted when serving), then gives the sigma of the h-step log move at every origin
from the candles up to it. ``walk_paths`` is the walk-forward's use: the scheduled models
refitted every ``volatility_refit_every`` origins on the rows before."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..choices import Volatility, covering
from .base import Params, VolatilityModel
from .candles import Candles, candles_of
from .ewma import EWMA, ewma_volatility
from .garch import GARCH, GARCH_T, GJR_T, fit_garch
from .har import HAR_RANGE
from .network import NETWORK

logger = logging.getLogger(__name__)

# The one map from a name (model.choices.Volatility) to its model.
MODELS: dict[str, VolatilityModel] = covering(
    Volatility,
    {
        "ewma": EWMA,
        "garch": GARCH,
        "garch_t": GARCH_T,
        "gjr_t": GJR_T,
        "har_range": HAR_RANGE,
        "network": NETWORK,
    },
)

__all__ = [
    "MODELS",
    "Candles",
    "Params",
    "VolatilityModel",
    "candles_of",
    "ewma_volatility",
    "fit_garch",
    "fit_volatility",
    "lookback",
    "model_of",
    "volatility_paths",
    "walk_paths",
]


def model_of(name: str) -> VolatilityModel:
    """The model called ``name``, or an error naming the known ones."""
    if name not in MODELS:
        raise ValueError(
            f"Unknown modelling.intervals.volatility {name!r}: use one of {', '.join(MODELS)}."
        )
    return MODELS[name]


def fit_volatility(train: pd.DataFrame | Candles, settings: dict[str, Any], horizon: int) -> Params:
    """The configured model's parameters from the training rows for forecasts up to
    ``horizon`` candles ahead (None for "ewma")."""
    name = settings["volatility"]
    params = model_of(name).fit(candles_of(train), settings, int(horizon))
    if params is not None:
        logger.info("%s volatility of the training candles: %s.", name, _rounded(params))
    return params


def volatility_paths(
    candles: pd.DataFrame | Candles | np.ndarray,
    settings: dict[str, Any],
    params: Params,
    n_origins: int,
    steps: int,
) -> np.ndarray:
    """(n_origins, steps): at each of the last ``n_origins`` rows, the forecast sigma of the
    log move over 1..``steps`` candles from the candles up to that row (only the last
    ``n_origins + lookback`` are read, so a longer history gives the same values)."""
    model = model_of(settings["volatility"])
    return model.paths(candles_of(candles), settings, params, n_origins, steps)


def lookback(settings: dict[str, Any], params: Params) -> int:
    """Candles the configured model reads before the first origin."""
    return model_of(settings["volatility"]).lookback(settings, params)


def walk_paths(
    candles: pd.DataFrame | Candles | np.ndarray,
    settings: dict[str, Any],
    origins: list[int],
    steps: int,
    train_start: int,
) -> np.ndarray:
    """(len(origins), steps): per origin (its first forecast row: rows before it are known)
    the sigma paths; fitted on rows [train_start, origins[0]) or, for a scheduled model,
    refitted every ``volatility_refit_every`` origins on the rows before the refit's first
    origin (from train_start, or the last ``volatility_fit_rows`` of them)."""
    candles, model = candles_of(candles), model_of(settings["volatility"])
    origins_array = np.asarray(origins)
    if model.scheduled:
        every = int(settings["volatility_refit_every"])
        block_of = (origins_array - origins_array[0]) // every
    else:
        block_of = np.zeros(len(origins_array), dtype=int)
    result = np.empty((len(origins_array), steps))
    for block in np.unique(block_of):
        chosen = np.flatnonzero(block_of == block)
        first, last = int(origins_array[chosen[0]]), int(origins_array[chosen[-1]])
        start = train_start
        if model.scheduled and settings.get("volatility_fit_rows"):
            start = max(train_start, first - int(settings["volatility_fit_rows"]))
        params = model.fit(candles.rows(start, first), settings, steps)
        paths = model.paths(candles.rows(0, last), settings, params, last - first + 1, steps)
        result[chosen] = paths[origins_array[chosen] - first]
    return result


def _rounded(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters for a log line: floats to 8 significant digits, long lists (the network's
    weights) by their length."""
    return {
        key: float(f"{value:.8g}")
        if isinstance(value, float)
        else (f"<{len(value)} values>" if isinstance(value, list) and len(value) > 10 else value)
        for key, value in params.items()
        if key != "network_weights"
    }
