"""Random-walk intervals: naive persistence with volatility-scaled bounds in log space,
close * exp(+- z * sigma_h), sigma_h from the same volatility models as the network's
intervals (``model.intervals``): RiskMetrics EWMA (sigma * sqrt(h)) or a GARCH(1,1)
fitted with ``arch`` on the refit's training returns (its variance forecasts summed)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..model.intervals import fit_garch, volatility_paths


def random_walk_sigmas(
    closes: np.ndarray,
    origins: list[int],
    horizon: int,
    intervals: dict[str, Any],
    volatility: str,
    train_start: int,
) -> np.ndarray:
    """Per origin (first forecast row) and step, the sigma of the log close change from the
    closes before the origin; GARCH's parameters come from rows [train_start, origins[0])."""
    settings = {**intervals, "volatility": volatility}
    garch = (
        fit_garch(np.diff(np.log(closes[train_start : origins[0]])))
        if volatility == "garch"
        else None
    )
    returns = np.diff(np.log(closes[: origins[-1]]))  # the last: into the last origin's close
    span = origins[-1] - origins[0] + 1
    paths = volatility_paths(returns, settings, garch, span, horizon)
    return paths[np.asarray(origins) - origins[0]]


def bounds(last_close: float, log_sigmas: np.ndarray, coverage: float) -> tuple[np.ndarray, ...]:
    """Lower and upper bounds of a random walk from ``last_close`` at ``coverage``."""
    z = stats.norm.ppf(0.5 + coverage / 2)
    return last_close * np.exp(-z * log_sigmas), last_close * np.exp(z * log_sigmas)
