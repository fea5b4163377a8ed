"""GARCH-family models fitted with ``arch`` on percent returns (zero mean): GARCH(1,1) with
normal errors ("garch", fitted once per training set), and GARCH(1,1) / GJR-GARCH(1,1) with
Student-t errors ("garch_t", "gjr_t", refitted on a schedule in the walk-forward anchors).
The h-step variance is the sum of the analytic variance forecasts of steps 1..h."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .base import Params, VolatilityModel
from .candles import Candles


def _finite_percent(log_returns: np.ndarray) -> np.ndarray:
    """Percent returns without NaN, as ``arch`` advises (its optimiser's scale)."""
    returns = 100 * np.asarray(log_returns, dtype="float64")
    return returns[np.isfinite(returns)]


def fit_garch(log_returns: np.ndarray) -> dict[str, float]:
    """GARCH(1,1) parameters (zero mean, normal) of log returns, fitted with ``arch`` on
    percent returns as it advises; returned in the units of ``log_returns``."""
    from arch import arch_model

    returns = _finite_percent(log_returns)
    fitted = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    params = fitted.params
    return {
        "omega": float(params["omega"]) / 1e4,
        "alpha": float(params["alpha[1]"]),
        "beta": float(params["beta[1]"]),
    }


def fit_student(log_returns: np.ndarray, asymmetric: bool) -> dict[str, float]:
    """GARCH(1,1) (GJR-GARCH(1,1) when ``asymmetric``) with Student-t errors, zero mean:
    omega (log-return units), alpha, gamma (0 when symmetric), beta, nu."""
    from arch import arch_model

    returns = _finite_percent(log_returns)
    model = arch_model(
        returns, mean="Zero", vol="GARCH", p=1, o=int(asymmetric), q=1, dist="t", rescale=False
    )
    params = model.fit(disp="off", show_warning=False).params
    return {
        "omega": float(params["omega"]) / 1e4,
        "alpha": float(params["alpha[1]"]),
        "gamma": float(params["gamma[1]"]) if asymmetric else 0.0,
        "beta": float(params["beta[1]"]),
        "nu": float(params["nu"]),
    }


def garch_paths(
    log_returns: np.ndarray, params: dict[str, float], steps: int, burn_in: int
) -> np.ndarray:
    """(rows, steps): after each row, the sigma of the log move over 1..steps candles.

    The filter starts at ``arch``'s backcast of the first ``burn_in`` returns (at most 75),
    as its own fit does: the unconditional variance does not exist when the fit is
    integrated (alpha + beta = 1, as Student-t fits on BTC's returns are), and the rows
    after the burn-in are origins the start may not read. A return below 0 adds gamma r^2 (GJR);
    E[sigma2_(t+k)] = omega + (alpha + gamma / 2 + beta) E[sigma2_(t+k-1)] (symmetric errors).
    """
    from arch.univariate import GARCH as ArchGarch

    omega, alpha, beta = params["omega"], params["alpha"], params["beta"]
    gamma = float(params.get("gamma", 0.0))
    persistence = alpha + gamma / 2 + beta
    returns = np.asarray(log_returns, dtype="float64")
    start = returns[:burn_in]
    start = start[np.isfinite(start)]  # a first row's unknown return is no evidence of calm
    variance = ArchGarch().backcast(start) if len(start) else omega
    values = np.nan_to_num(returns).tolist()  # the filter steps over it as a zero move
    next_variance = np.empty(len(values))
    for row, value in enumerate(values):
        shock = alpha + gamma if value < 0 else alpha
        variance = omega + shock * value * value + beta * variance
        next_variance[row] = variance  # of the return after this row
    paths = np.empty((len(values), steps))
    paths[:, 0] = next_variance
    for step in range(1, steps):
        paths[:, step] = omega + persistence * paths[:, step - 1]
    return np.sqrt(np.cumsum(paths, axis=1))


def _fit(kind: str, candles: Candles, settings: dict[str, Any], steps: int) -> Params:
    """The model's parameters from the training candles' returns."""
    returns = candles.log_returns()
    if kind == "garch":
        return fit_garch(returns)
    return fit_student(returns, asymmetric=kind == "gjr_t")


def _paths(
    candles: Candles, settings: dict[str, Any], params: Params, n_origins: int, steps: int
) -> np.ndarray:
    """The filter over the last ``n_origins + ewma_window`` returns (a longer history gives
    the same values), then the summed variance forecasts at the last ``n_origins`` rows."""
    if params is None:
        raise ValueError("A GARCH volatility model needs its fitted parameters, got None.")
    burn_in = _lookback(settings, params)
    returns = candles.log_returns()[-(n_origins + burn_in) :]
    return garch_paths(returns, params, steps, burn_in)[-n_origins:]


def _lookback(settings: dict[str, Any], params: Params) -> int:
    """The filter's burn-in: the EWMA's window (0.9**100 of the start is left)."""
    return int(settings["ewma_window"])


GARCH, GARCH_T, GJR_T = (
    VolatilityModel(
        fit=partial(_fit, kind), paths=_paths, lookback=_lookback, scheduled=kind != "garch"
    )
    for kind in ("garch", "garch_t", "gjr_t")
)
