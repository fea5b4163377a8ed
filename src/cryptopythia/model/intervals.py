"""Prediction intervals that know the market's volatility: conformal scores normalised by a
volatility forecast, with adaptive conformal inference (Gibbs & Candès 2021) on top.

A step-h forecast's score is |log(actual / forecast)| / sigma_h, where sigma_h is the
forecast standard deviation of the log move over h candles known at the origin, from the
volatility model of ``modelling.intervals.volatility`` (``model.volatility``: EWMA, GARCH
variants, HAR on the candles' range). The interval at an origin is
forecast * exp(+- q * sigma), q being a quantile of recent scores. Adaptive conformal
inference moves the quantile's level after every miss or hit:
alpha_(t+1) = alpha_t + gamma * (alpha - miss_t), so coverage holds when the market
changes. A step-h forecast is only scored h candles later: the level used at origin t
has learnt from the forecasts made up to t - h only.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..indicators.kernel_cache import cached_njit

# The volatility models live in model.volatility; their names are re-exported here for the
# callers of the conformal layer.
from .volatility import (  # noqa: F401
    MODELS,
    ewma_volatility,
    fit_garch,
    fit_volatility,
    volatility_paths,
)

logger = logging.getLogger(__name__)

VOLATILITY_MODELS = tuple(MODELS)


def normalised_scores(actual: np.ndarray, forecast: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """|log(actual / forecast)| / sigma; a forecast <= 0 USD (a diverged ``diff`` model) is
    infinitely far from any price."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    ratio = np.divide(actual, forecast, out=np.zeros_like(actual), where=forecast > 0)
    distance = np.abs(np.log(ratio, where=ratio > 0, out=np.full_like(ratio, np.inf)))
    return distance / np.asarray(sigma, float)


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


def adaptive_quantiles(
    scores: np.ndarray, coverage: float, gamma: float, delay: int, window: int, replay: int
) -> np.ndarray:
    """For every origin k of a dense walk, ``adaptive_quantile`` of the scores of its last
    ``replay`` origins (k - replay + 1 .. k, those of the last ``delay`` unknown): what a
    request replaying ``replay`` forecasts gives (model.forecaster.interval_quantiles,
    replay = calibration + adaptation + horizon + 1), NaN for the first replay - 1 origins.

    The same replay, run for all origins at once (one vectorised pass per replayed origin):
    a walk-forward of thousands of origins costs milliseconds instead of a replay each.
    """
    alpha, scores = 1.0 - coverage, np.asarray(scores, dtype="float64")
    n_scores = replay - delay  # per request, the replayed origins whose outcome is known
    result = np.full(len(scores), np.nan)
    if len(scores) < replay:
        return result
    if n_scores < window:  # as adaptive_quantile: too few known scores
        result[replay - 1 :] = np.inf
        return result
    sorted_windows = np.sort(sliding_window_view(scores, window), axis=1)
    first = np.arange(len(scores) - replay + 1)  # each request's oldest replayed origin
    shift, quantile = np.zeros(len(first)), np.full(len(first), np.inf)
    missed = np.zeros((len(first), replay))
    for origin in range(window - 1 + delay, replay):
        if origin - delay >= window - 1 + delay:  # that origin's miss is known by now
            shift += gamma * (alpha - missed[:, origin - delay])
        level = np.minimum(1.0 - (alpha + shift), window / (window + 1))
        rank = np.ceil((window + 1) * np.minimum(level, 1.0)).astype(int)
        start = first + origin - delay + 1 - window
        picked = sorted_windows[start, np.clip(rank, 1, window) - 1]
        quantile = np.where(level <= 0, 0.0, picked)
        if origin < n_scores:
            missed[:, origin] = scores[first + origin] > quantile
    result[replay - 1 :] = quantile
    return result


def adaptive_quantile_grid(
    scores: np.ndarray, coverages: np.ndarray, gamma: float, delay: int, window: int
) -> np.ndarray:
    """``adaptive_quantile`` at every coverage of ``coverages`` at once: the same replay,
    each coverage with its own adaptive level (its own misses), in one pass over the
    origins for a whole grid of levels. Equal to one ``adaptive_quantile`` per coverage,
    exactly (a test checks it)."""
    alpha = 1.0 - np.asarray(coverages, dtype="float64")
    scores = np.asarray(scores, dtype="float64")
    if len(scores) < window:
        return np.full(len(alpha), np.inf)
    sorted_windows = np.sort(sliding_window_view(scores, window), axis=1)
    return _aci_grid(scores, sorted_windows, alpha, float(gamma), int(delay), int(window))


@cached_njit()
def _aci_grid(
    scores: np.ndarray,
    sorted_windows: np.ndarray,
    alpha: np.ndarray,
    gamma: float,
    delay: int,
    window: int,
) -> np.ndarray:  # pragma: no cover  (compiled by numba)
    """The replay of ``adaptive_quantile_grid``, compiled (numba, cached on disk): a loop
    over ~150 origins x the grid's coverages, sequential by nature, cost ~4 ms per step of
    a served request in numpy's small-array calls, most of a request's time."""
    n_scores, levels = scores.shape[0], alpha.shape[0]
    first_known = window - 1 + delay  # the first origin whose miss is recorded
    missed = np.zeros((n_scores, levels))
    shift, quantile = np.zeros(levels), np.full(levels, np.inf)
    cap = window / (window + 1)
    for origin in range(first_known, n_scores + delay):
        known = origin - delay + 1  # scores[:known] are known at this origin
        for j in range(levels):
            if origin - delay >= first_known:  # that origin's miss is known by now
                shift[j] += gamma * (alpha[j] - missed[origin - delay, j])
            level = min(1.0 - (alpha[j] + shift[j]), cap)
            rank = math.ceil((window + 1) * min(level, 1.0))
            if level <= 0:
                quantile[j] = 0.0
            elif rank > window:
                quantile[j] = np.inf
            else:
                quantile[j] = sorted_windows[known - window, max(rank, 1) - 1]
            if origin < n_scores:
                missed[origin, j] = 1.0 if scores[origin] > quantile[j] else 0.0
    return quantile
