"""Random-walk intervals: naive persistence with volatility-scaled bounds in log space,
close * exp(+- z * sigma_h), sigma_h from the same volatility models as the network's
intervals (``model.volatility``): RiskMetrics EWMA (sigma * sqrt(h)), a GARCH(1,1) fitted
with ``arch`` on the refit's training returns (its variance forecasts summed), and the
scheduled models (Student-t GARCH/GJR, HAR on the range) refitted every
``volatility_refit_every`` origins."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..model.volatility import Candles, walk_paths


def random_walk_sigmas(
    candles: Candles | pd.DataFrame | np.ndarray,
    origins: list[int],
    horizon: int,
    intervals: dict[str, Any],
    volatility: str,
    train_start: int,
) -> np.ndarray:
    """Per origin (first forecast row) and step, the sigma of the log close change from the
    candles before the origin (a model table, OHLC candles, or bare closes for the models
    of closes only); fitted on rows from ``train_start`` before the origins (see
    ``walk_paths``)."""
    settings = {**intervals, "volatility": volatility}
    return walk_paths(candles, settings, origins, horizon, train_start)


def bounds(last_close: float, log_sigmas: np.ndarray, coverage: float) -> tuple[np.ndarray, ...]:
    """Lower and upper bounds of a random walk from ``last_close`` at ``coverage``."""
    z = stats.norm.ppf(0.5 + coverage / 2)
    return last_close * np.exp(-z * log_sigmas), last_close * np.exp(z * log_sigmas)


def random_walk_quantiles(
    last_close: float, log_sigmas: np.ndarray, levels: list[float]
) -> np.ndarray:
    """A random walk's close quantiles (levels, steps): last close * exp(z_tau * sigma_h),
    the log move normal (as its ``bounds``)."""
    z = stats.norm.ppf(np.asarray(levels, dtype="float64"))
    return last_close * np.exp(z[:, None] * np.asarray(log_sigmas, dtype="float64")[None, :])
