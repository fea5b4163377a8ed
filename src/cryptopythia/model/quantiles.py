"""The forecast's quantile function, from the conformal layer of ``model.intervals``: what
the interval bounds, the served ``quantile_<level>`` columns, the inference's Value-at-Risk
and Expected Shortfall and the backtest's proper scores all read.

A level tau is the bound of the central interval of coverage c = |2 tau - 1| (tau < 0.5 its
lower bound, tau > 0.5 its upper one, 0.5 the point forecast): forecast * exp(+-r(c, h)),
r(c, h) = q_h(c) * sigma_h the radius in log space, q_h(c) the adaptive conformal quantile
of step h's normalised scores at coverage c (``adaptive_quantile_grid``).

Each q_h(c) is the outcome of its own adaptive replay, so two nearby coverages (or two
steps) may cross: the raw 80% interval of a daily forecast was narrower at step 7 than at
step 6. The function is made monotone on a fixed grid of coverages (``coverage_grid``: the
configured coverages, every 0.01 and 0.995, 0.999, 1):

1. across coverages, q_h(c) is replaced by its running maximum over the grid (a higher
   coverage never gets a smaller quantile);
2. across steps, the radius r(c, h) is replaced by its running maximum over h (the log
   width of an interval never shrinks further out), beyond the network's horizon with the
   last step's quantile and the step's own sigma;
3. between grid coverages the radius is interpolated linearly.

Running maxima and linear interpolation keep each other's order, so the result never
crosses across levels nor across steps, and it does not depend on which levels a request
asks for: ``lower_80`` is always ``quantile_0.1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

QUANTILE_PREFIX = "quantile_"
# The levels of the Expected Shortfall's tail average (a midpoint rule over the tail).
ES_GRID_POINTS = 1000


def coverage_grid(coverages: Sequence[float] = ()) -> np.ndarray:
    """The coverages the quantile function is computed at: 0, 0.01, ..., 1, 0.995, 0.999
    and ``coverages`` (the configured interval coverages: on the grid, their bounds are
    exact), ascending."""
    grid = np.round(np.linspace(0.0, 1.0, 101), 10)
    return np.unique(np.concatenate([grid, [0.995, 0.999], np.asarray(coverages, float)]))


def monotone_radii(quantiles: np.ndarray, sigma: np.ndarray, steps: int) -> np.ndarray:
    """Log-space radii (coverages, steps) from per-step score quantiles (coverages, horizon;
    coverages ascending) and the origin's sigma over 1..steps: q made non-decreasing across
    coverages, r = q * sigma (beyond the horizon the last step's q), then r made
    non-decreasing across steps."""
    quantiles = np.maximum.accumulate(np.asarray(quantiles, dtype="float64"), axis=0)
    horizon = quantiles.shape[1]
    per_step = quantiles[:, np.minimum(np.arange(steps), horizon - 1)]
    return np.maximum.accumulate(per_step * np.asarray(sigma, float)[None, :steps], axis=1)


@dataclass(frozen=True)
class QuantileFunction:
    """A forecast's quantile function in log space around the forecast close: at
    ``coverages`` (ascending, 0 .. 1), the radius of the central interval of each step,
    ``radii`` (coverages, steps), non-decreasing along both axes; ``sigma`` (steps), the
    volatility of the log close the radii are multiples of (None where not known)."""

    coverages: np.ndarray
    radii: np.ndarray
    sigma: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return self.radii.shape[1]

    def radius(self, coverages: Sequence[float] | np.ndarray) -> np.ndarray:
        """The radii (len(coverages), steps) of central intervals of ``coverages``,
        interpolated linearly between grid coverages."""
        coverages = np.asarray(coverages, dtype="float64")
        return np.column_stack(
            [np.interp(coverages, self.coverages, self.radii[:, h]) for h in range(self.steps)]
        ).reshape(len(coverages), self.steps)

    def log_quantiles(self, levels: Sequence[float] | np.ndarray) -> np.ndarray:
        """log(quantile / forecast) (len(levels), steps) of each level tau:
        sign(tau - 0.5) * radius(|2 tau - 1|)."""
        levels = np.asarray(levels, dtype="float64")
        return np.sign(levels - 0.5)[:, None] * self.radius(np.abs(2 * levels - 1))


def quantile_column(level: float) -> str:
    """The column of a level: ``quantile_<level>``, the level as str(float): 0.05 ->
    quantile_0.05."""
    return f"{QUANTILE_PREFIX}{float(level)}"


def check_levels(levels: Any, max_levels: int, source: str = "quantiles") -> list[float]:
    """The quantile levels asked for, as floats, each strictly between 0 and 1, none twice,
    at most ``max_levels`` of them; a ValueError saying which level is wrong and why
    (``source``: how the caller names the setting)."""
    if levels is None:
        return []
    if isinstance(levels, str | bytes) or not isinstance(levels, Sequence | np.ndarray):
        raise ValueError(
            f"{source}={levels!r} is not a list of levels; send e.g. [0.05, 0.5, 0.95]."
        )
    levels = list(levels)
    if len(levels) > max_levels:
        raise ValueError(
            f"{source} holds {len(levels)} levels; at most {max_levels} are computed per request."
        )
    checked: list[float] = []
    for level in levels:
        try:
            value = float(level)
            numeric = not isinstance(level, bool | str | bytes)
        except (TypeError, ValueError):
            value, numeric = math.nan, False
        if not numeric:
            raise ValueError(f"{source}: the level {level!r} is not a number.")
        if not 0.0 < value < 1.0:  # NaN fails too
            raise ValueError(
                f"{source}: the level {level!r} is not strictly between 0 and 1 (a quantile "
                "level: 0.05 is the 5% quantile)."
            )
        if value in checked:
            raise ValueError(f"{source}: the level {level!r} is asked for twice.")
        checked.append(value)
    return checked


def value_at_risk(
    mean_log_return: float, radius: Callable[[np.ndarray], np.ndarray], level: float
) -> tuple[float, float]:
    """(VaR, ES) at ``level`` (0.95, 0.99) of the loss -log(close_1 / last close), positive
    numbers being losses, when the log return's quantile at tau < 0.5 is
    ``mean_log_return - radius(1 - 2 tau)``.

    VaR = -Q(1 - level) = radius(2 level - 1) - mean_log_return. ES is the mean of the
    quantile losses beyond it, (1 / (1 - level)) * integral over tau in (0, 1 - level) of
    -Q(tau), by the midpoint rule on ES_GRID_POINTS equally spaced levels tau of the same
    quantile function."""
    if not 0.5 < level < 1:
        raise ValueError(f"A Value-at-Risk level is between 0.5 and 1, got {level}.")
    tail = 1.0 - level
    taus = (np.arange(ES_GRID_POINTS) + 0.5) / ES_GRID_POINTS * tail
    losses = np.asarray(radius(1.0 - 2.0 * taus), dtype="float64") - mean_log_return
    var = float(np.asarray(radius(np.array([2.0 * level - 1.0])), dtype="float64")[0])
    var -= mean_log_return
    # every tail loss is >= the VaR: the mean too (not by a rounding error below it)
    return var, max(float(np.mean(losses)), var)


def risk_table(
    function: QuantileFunction, forecast_close: float, last_close: float, levels: Sequence[float]
) -> list[dict[str, float]]:
    """Per confidence level, the next candle's Value-at-Risk and Expected Shortfall of the
    log return log(close_1 / last_close) (positive: losses), from the forecast's step-1
    quantile function (``value_at_risk``), with the mean and the step-1 radii it reads."""
    mean = float(np.log(forecast_close / last_close))
    rows = []
    for level in levels:
        var, es = value_at_risk(mean, lambda c: function.radius(c)[:, 0], float(level))
        rows.append(
            {
                "level": float(level),
                "value_at_risk": var,
                "expected_shortfall": es,
                "forecast_log_return": mean,
            }
        )
    return rows
