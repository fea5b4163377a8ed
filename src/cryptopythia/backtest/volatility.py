"""Random-walk intervals: naive persistence with volatility-scaled bounds in log space,
close * exp(+- z * sigma_h), sigma_h from RiskMetrics EWMA (sigma * sqrt(h)) or from a
GARCH(1,1) fitted with ``arch`` (the sum of its variance forecasts up to step h)."""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

from ..model.intervals import ewma_volatility

logger = logging.getLogger(__name__)


def ewma_log_sigmas(
    closes: np.ndarray, origins: list[int], horizon: int, decay: float, window: int
) -> np.ndarray:
    """Per origin (first forecast row) and step, the EWMA sigma of the log close change."""
    returns = np.concatenate([[np.nan], np.diff(np.log(closes))])  # row i: close i-1 -> i
    sigma = ewma_volatility(returns, decay, window)
    steps = np.sqrt(np.arange(1, horizon + 1))
    return sigma[np.asarray(origins) - 1][:, None] * steps[None, :]


def garch_log_sigmas(
    closes: np.ndarray, origins: list[int], horizon: int, train_start: int
) -> np.ndarray:
    """Per origin and step, the sigma of the log close change from a zero-mean GARCH(1,1)
    fitted on the returns of rows [train_start, origins[0]) (percent returns, as arch
    advises), its variance filtered forward to each origin with those parameters."""
    from arch import arch_model

    returns = 100 * np.diff(np.log(closes))  # index i: close i -> i + 1
    model = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
    fitted = model.fit(first_obs=train_start, last_obs=origins[0] - 1, disp="off")
    # Forecasts made at return index origin - 2 (the last return known at the origin).
    variance = fitted.forecast(horizon=horizon, start=origins[0] - 2, reindex=False).variance
    rows = variance.loc[[origin - 2 for origin in origins]].to_numpy()
    return np.sqrt(np.cumsum(rows, axis=1)) / 100


def bounds(last_close: float, log_sigmas: np.ndarray, coverage: float) -> tuple[np.ndarray, ...]:
    """Lower and upper bounds of a random walk from ``last_close`` at ``coverage``."""
    z = stats.norm.ppf(0.5 + coverage / 2)
    return last_close * np.exp(-z * log_sigmas), last_close * np.exp(z * log_sigmas)
