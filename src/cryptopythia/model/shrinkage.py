"""Shrinkage towards naive persistence: a per-step weight in [0, 1] on the network's
predicted move, fitted out of sample, so that a network without skill becomes naive
instead of worse (weight 0: the forecast is the last close)."""

from __future__ import annotations

import numpy as np

from .targets import TARGET_KINDS


def moves(paths: np.ndarray, last_close: np.ndarray, kind: str) -> np.ndarray:
    """The move from the last close to each path value, in the target's own space: log
    ratios for ``log_return``, USD differences for ``diff`` and ``close``."""
    paths, last = np.asarray(paths, dtype="float64"), np.asarray(last_close, dtype="float64")
    if kind == "log_return":
        return np.log(paths / last[:, None])
    if kind in TARGET_KINDS:
        return paths - last[:, None]
    raise ValueError(f"Unknown target kind {kind!r}: use one of {TARGET_KINDS}.")


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
    weights = []
    for step in range(predicted.shape[1]):
        f, y = predicted[:, step], realised[:, step]
        energy = float(np.dot(f, f))
        if energy <= 0 or len(f) < 3:
            weights.append(0.0)
            continue
        slope = float(np.dot(f, y)) / energy
        residual = y - slope * f
        standard_error = np.sqrt(np.dot(residual, residual) / (len(f) - 1) / energy)
        t_statistic = slope / standard_error if standard_error > 0 else np.inf * np.sign(slope)
        significant = t_statistic >= min_t
        weights.append(float(np.clip(slope, 0.0, 1.0)) if significant else 0.0)
    return weights
