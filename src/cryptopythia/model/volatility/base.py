"""The one interface of every volatility model: fit on the training candles to a JSON-able
parameter dict (None: nothing to fit), then the sigma of the h-step log move at each origin
from the candles up to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candles import Candles

Params = dict[str, Any] | None


@dataclass(frozen=True)
class VolatilityModel:
    """A volatility model: ``fit(candles, settings, steps) -> params`` (``steps``: the
    horizon it will be asked for; only the network's fit depends on it); ``paths(candles, settings,
    params, n_origins, steps)`` -> (n_origins, steps) sigma of the log move over 1..steps
    candles at each of the last ``n_origins`` rows, from the rows up to it;
    ``lookback(settings, params)``: the rows before the first origin it reads; ``scheduled``:
    the walk-forward anchors refit it every ``volatility_refit_every`` origins."""

    fit: Callable[[Candles, dict[str, Any], int], Params]
    paths: Callable[[Candles, dict[str, Any], Params, int, int], np.ndarray]
    lookback: Callable[[dict[str, Any], Params], int]
    scheduled: bool
