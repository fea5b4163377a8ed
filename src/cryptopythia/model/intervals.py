"""Prediction intervals that know the market's volatility: conformal scores normalised by a
volatility forecast, with adaptive conformal inference (Gibbs & Candès 2021) on top.

A step-h forecast's score is |log(actual / forecast)| / sigma_h, where sigma_h is the
forecast standard deviation of the log move over h candles known at the origin: from a
GARCH(1,1) fitted on the training returns (its variance forecasts mean-revert, so a
volatile day does not blow up the week ahead), or RiskMetrics EWMA (sigma * sqrt(h)). The interval at an origin is
forecast * exp(+- q * sigma), q being a quantile of recent scores. Adaptive conformal
inference moves the quantile's level after every miss or hit:
alpha_(t+1) = alpha_t + gamma * (alpha - miss_t), so coverage holds when the market
changes. A step-h forecast is only scored h candles later: the level used at origin t
has learnt from the forecasts made up to t - h only.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

logger = logging.getLogger(__name__)

VOLATILITY_MODELS = ("garch", "ewma")


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


def normalised_scores(actual: np.ndarray, forecast: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """|log(actual / forecast)| / sigma; a forecast <= 0 USD (a diverged ``diff`` model) is
    infinitely far from any price."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    ratio = np.divide(actual, forecast, out=np.zeros_like(actual), where=forecast > 0)
    distance = np.abs(np.log(ratio, where=ratio > 0, out=np.full_like(ratio, np.inf)))
    return distance / np.asarray(sigma, float)


def fit_garch(log_returns: np.ndarray) -> dict[str, float]:
    """GARCH(1,1) parameters (zero mean, normal) of log returns, fitted with ``arch`` on
    percent returns as it advises; returned in the units of ``log_returns``."""
    from arch import arch_model

    returns = 100 * np.asarray(log_returns, dtype="float64")
    returns = returns[np.isfinite(returns)]
    fitted = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    params = fitted.params
    return {
        "omega": float(params["omega"]) / 1e4,
        "alpha": float(params["alpha[1]"]),
        "beta": float(params["beta[1]"]),
    }


def fit_volatility(train: pd.DataFrame, settings: dict[str, Any]) -> dict[str, float] | None:
    """The GARCH(1,1) of the training rows' log returns when ``settings.volatility`` is
    "garch" (None for "ewma", which has no parameters to fit)."""
    if settings["volatility"] not in VOLATILITY_MODELS:
        raise ValueError(
            f"Unknown modelling.intervals.volatility {settings['volatility']!r}: use one of "
            f"{', '.join(VOLATILITY_MODELS)}."
        )
    if settings["volatility"] == "ewma":
        return None
    params = fit_garch(np.diff(np.log(train["close_usd"].to_numpy(dtype="float64"))))
    logger.info(
        "GARCH(1,1) of the training returns: %s.", {k: round(v, 8) for k, v in params.items()}
    )
    return params


def volatility_paths(
    log_returns: np.ndarray,
    settings: dict[str, Any],
    garch: dict[str, float] | None,
    n_origins: int,
    steps: int,
) -> np.ndarray:
    """(n_origins, steps): at each of the last ``n_origins`` rows, the forecast standard
    deviation of the log move over 1..``steps`` candles, from the returns up to that row.

    Only the last ``n_origins + ewma_window`` returns are read, so a longer history gives
    the same values. GARCH's filter starts there at the fitted unconditional variance.
    """
    window = int(settings["ewma_window"])
    returns = np.asarray(log_returns, dtype="float64")[-(n_origins + window) :]
    if settings["volatility"] == "ewma":
        sigma = ewma_volatility(returns, float(settings["ewma_decay"]), window)[-n_origins:]
        return sigma[:, None] * np.sqrt(np.arange(1, steps + 1))[None, :]
    omega, alpha, beta = garch["omega"], garch["alpha"], garch["beta"]
    persistence = alpha + beta
    variance = omega / max(1.0 - persistence, 1e-6)  # unconditional, where the filter starts
    next_variance = np.empty(len(returns))
    for row, value in enumerate(np.nan_to_num(returns)):
        variance = omega + alpha * value * value + beta * variance
        next_variance[row] = variance  # of the return after this row
    paths = np.empty((n_origins, steps))
    paths[:, 0] = next_variance[-n_origins:]
    for step in range(1, steps):  # E[sigma2_(t+k)] = omega + (alpha + beta) E[sigma2_(t+k-1)]
        paths[:, step] = omega + persistence * paths[:, step - 1]
    return np.sqrt(np.cumsum(paths, axis=1))


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The finite-sample conformal quantile of ``scores`` at ``level``: the
    ceil((n + 1) * level)-th smallest score (inf when that is beyond n, 0 for level <= 0)."""
    return _ranked(np.sort(np.asarray(scores, dtype="float64")), level)


def _ranked(sorted_scores: np.ndarray, level: float) -> float:
    """``conformal_quantile`` of scores already sorted."""
    if level <= 0 or len(sorted_scores) == 0:
        return 0.0 if level <= 0 else float("inf")
    rank = math.ceil((len(sorted_scores) + 1) * min(level, 1.0))
    return float("inf") if rank > len(sorted_scores) else float(sorted_scores[rank - 1])


def adaptive_quantile(
    scores: np.ndarray, coverage: float, gamma: float, delay: int, window: int
) -> float:
    """The score quantile for the origin ``delay`` steps after the last scored one, after
    replaying adaptive conformal inference over ``scores`` (one per origin, oldest first).

    At origin k only the scores of origins <= k - delay are known: its quantile comes from
    the last ``window`` of them, at level 1 - alpha_k (at most their largest: never an
    infinite interval), and alpha_k has learnt from the misses of the origins scored so far.
    Every window is sorted at once up front (one vectorised sort); the replay, sequential
    by nature (each level depends on earlier misses), then only picks ranks.
    """
    alpha = 1.0 - coverage
    scores = np.asarray(scores, dtype="float64")
    n_scores, target = len(scores), len(scores) - 1 + delay
    if n_scores < window:
        return float("inf")
    # sorted_windows[j]: the scores[j : j + window], sorted; known at the origin whose
    # known scores end at j + window
    sorted_windows = np.sort(sliding_window_view(scores, window), axis=1)
    values = scores.tolist()  # plain floats: the loop below runs once per origin
    missed: list[float | None] = [None] * n_scores
    shift, quantile = 0.0, float("inf")
    for origin in range(window - 1 + delay, target + 1):
        known = origin - delay + 1  # scores[:known] are known at this origin
        if missed[origin - delay] is not None:
            shift += gamma * (alpha - missed[origin - delay])
        # capped at the largest recent score: ACI's level may pass 1 after a run of misses,
        # and an infinite interval tells a client nothing
        level = min(1.0 - (alpha + shift), window / (window + 1))
        quantile = _ranked(sorted_windows[known - window], level)
        if origin < n_scores:
            missed[origin] = float(values[origin] > quantile)
    return quantile
