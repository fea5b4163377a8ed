"""RiskMetrics EWMA: sigma * sqrt(h), nothing to fit."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Params, VolatilityModel
from .candles import Candles


def ewma_volatility(log_returns: np.ndarray, decay: float, window: int) -> np.ndarray:
    """RiskMetrics EWMA volatility at each row from the ``window`` returns up to it, weights
    decay**k (k = 0 the row itself), normalised; NaN until ``window`` returns exist.

    A fixed window (0.94**100 = 0.2% weight left out) makes the value depend on the last
    ``window`` candles only, so a request with fewer candles sees the same volatility.
    """
    returns = np.asarray(log_returns, dtype="float64")
    weights = decay ** np.arange(window)
    squares = np.convolve(np.nan_to_num(returns**2, nan=np.nan), weights, mode="full")
    variance = squares[: len(returns)] / weights.sum()
    known = np.isfinite(returns)
    # a row is defined when it and the window - 1 rows before it all have a return
    complete = np.convolve(known.astype("float64"), np.ones(window), mode="full")[: len(returns)]
    variance[complete < window] = np.nan
    return np.sqrt(variance)


def _fit(candles: Candles, settings: dict[str, Any], steps: int) -> Params:
    """EWMA has no parameters to fit."""
    return None


def _paths(
    candles: Candles, settings: dict[str, Any], params: Params, n_origins: int, steps: int
) -> np.ndarray:
    """sigma_1 * sqrt(h), sigma_1 the EWMA of the last ``ewma_window`` returns."""
    window = int(settings["ewma_window"])
    returns = candles.log_returns()[-(n_origins + window) :]
    sigma = ewma_volatility(returns, float(settings["ewma_decay"]), window)[-n_origins:]
    return sigma[:, None] * np.sqrt(np.arange(1, steps + 1))[None, :]


def _lookback(settings: dict[str, Any], params: Params) -> int:
    """The EWMA's window."""
    return int(settings["ewma_window"])


EWMA = VolatilityModel(fit=_fit, paths=_paths, lookback=_lookback, scheduled=False)
