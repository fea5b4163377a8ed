"""Shrinkage towards naive persistence: a per-step weight in [0, 1] on the network's
predicted move, fitted out of sample, so that a network without skill becomes naive
instead of worse (weight 0: the forecast is the last close)."""

from __future__ import annotations

import numpy as np

from .choices import Target, allowed
from .statistics import long_run_variance


def moves(paths: np.ndarray, last_close: np.ndarray, kind: str) -> np.ndarray:
    """The move from the last close to each path value, in the target's own space: log
    ratios for ``log_return``, USD differences for ``diff`` and ``close``."""
    paths, last = np.asarray(paths, dtype="float64"), np.asarray(last_close, dtype="float64")
    if kind == "log_return":
        return np.log(paths / last[:, None])
    if kind in allowed(Target):
        return paths - last[:, None]
    raise ValueError(f"Unknown target kind {kind!r}: use one of {', '.join(allowed(Target))}.")


def shrink(paths: np.ndarray, last_close: np.ndarray, weights: np.ndarray, kind: str) -> np.ndarray:
    """Close paths (N, h) whose move from the last close is scaled by ``weights[:h]``."""
    paths = np.asarray(paths, dtype="float64")
    weights = np.asarray(weights, dtype="float64")[: paths.shape[1]]
    last = np.asarray(last_close, dtype="float64")[:, None]
    move = moves(paths, last[:, 0], kind) * weights
    return last * np.exp(move) if kind == "log_return" else last + move


def fit_weights(
    forecast: np.ndarray, actual: np.ndarray, last_close: np.ndarray, kind: str, min_t: float
) -> list[float]:
    """Per step, the least-squares weight of the predicted move, clipped to [0, 1]:
    w = <actual move, predicted move> / <predicted move, predicted move>; 0 unless its
    t-statistic reaches ``min_t`` (no evidence of skill: the forecast is naive's)."""
    predicted, realised = moves(forecast, last_close, kind), moves(actual, last_close, kind)
    return [
        _weight(predicted[:, step], realised[:, step], step, min_t)
        for step in range(predicted.shape[1])
    ]


def _weight(predicted: np.ndarray, realised: np.ndarray, lags: int, min_t: float) -> float:
    """One step's weight. Its standard error is Newey-West's with ``lags`` lags: the
    (step)-candle moves of consecutive windows overlap by step - 1 candles, and volatility
    clusters, so the textbook i.i.d. standard error would overstate the evidence of skill."""
    energy = float(np.dot(predicted, predicted))
    if energy <= 0 or len(predicted) < 3:
        return 0.0
    slope = float(np.dot(predicted, realised)) / energy
    score = predicted * (realised - slope * predicted)  # the regression's moment condition
    standard_error = np.sqrt(len(score) * long_run_variance(score, lags)) / energy
    t_statistic = slope / standard_error if standard_error > 0 else np.inf * np.sign(slope)
    return float(np.clip(slope, 0.0, 1.0)) if t_statistic >= min_t else 0.0
