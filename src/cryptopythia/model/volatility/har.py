"""HAR (Corsi 2009) on a log variance: log v_(t+1) = b0 + sum_k b_k mean(log v_(t-k+1..t))
over lags k (1, 5, 22 daily candles; 1, 6, 42 on 4h), fitted by least squares. "har_range"
takes v from each candle's range (Garman-Klass or Parkinson, plus the opening gap), robust
to flash-crash wicks (close-to-close squared return instead) and to zero ranges (a floor).
The h-step variance sums the iterated forecasts exp(log v_hat) times a scale fitted so that
the one-step forecasts match the mean squared return of the training rows."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..choices import RangeEstimator, allowed
from .base import Params, VolatilityModel
from .candles import Candles

logger = logging.getLogger(__name__)

GARMAN_KLASS_CLOSE = 2 * math.log(2) - 1


def range_variance(candles: Candles, estimator: RangeEstimator, wick_bound: float) -> np.ndarray:
    """Per candle, a range-based variance of its log move (plus the squared opening gap);
    the squared close-to-close return where a wick goes beyond ``wick_bound`` times the
    body (a flash-crash print, e.g. a low of 0.0001 under an open of 3.8) or is not finite."""
    if not candles.has_range:
        raise ValueError("har_range needs open, high and low candles, not only closes.")
    o, h, lo, c = candles.open, candles.high, candles.low, candles.close
    with np.errstate(divide="ignore", invalid="ignore"):
        spread, body = np.log(h / lo), np.log(c / o)
        if estimator == "garman_klass":
            variance = 0.5 * spread**2 - GARMAN_KLASS_CLOSE * body**2
        elif estimator == "parkinson":
            variance = spread**2 / (4 * math.log(2))
        else:
            raise ValueError(
                f"Unknown har_range_estimator {estimator!r}: use one of "
                f"{', '.join(allowed(RangeEstimator))}."
            )
        previous = np.concatenate([[np.nan], c[:-1]])
        variance = variance + np.nan_to_num(np.log(o / previous)) ** 2
        implausible = (lo < wick_bound * np.minimum(o, c)) | (h * wick_bound > np.maximum(o, c))
        implausible |= ~np.isfinite(variance)
        close_to_close = np.log(c / previous) ** 2
    return np.where(implausible, close_to_close, variance)


def har_design(log_variance: np.ndarray, lags: list[int]) -> np.ndarray:
    """(rows, 1 + len(lags)): 1 and the mean log variance of the last k rows per lag, at
    every row with max(lags) rows up to it (the first max(lags) - 1 rows are dropped)."""
    windows = sliding_window_view(log_variance, max(lags))
    columns = [windows[:, -k:].mean(axis=1) for k in lags]
    return np.column_stack([np.ones(len(windows)), *columns])


def fit_har(log_variance: np.ndarray, lags: list[int]) -> list[float]:
    """Least-squares HAR coefficients [b0, b_k...] predicting the next row's log variance."""
    design = har_design(log_variance, lags)[:-1]
    target = log_variance[max(lags) :]
    keep = np.isfinite(design).all(axis=1) & np.isfinite(target)
    if keep.sum() < 5 * design.shape[1]:
        raise ValueError(f"HAR needs more rows to fit: {int(keep.sum())} complete rows.")
    coefficients, *_ = np.linalg.lstsq(design[keep], target[keep], rcond=None)
    return [float(value) for value in coefficients]


def har_forecasts(
    log_variance: np.ndarray, coefficients: list[float], lags: list[int], steps: int
) -> np.ndarray:
    """(rows, steps): at each row with max(lags) rows up to it, the iterated forecasts of
    the log variance of the next 1..steps rows."""
    history = sliding_window_view(log_variance, max(lags)).copy()
    forecasts = np.empty((len(history), steps))
    weights = np.asarray(coefficients)
    for step in range(steps):
        design = np.column_stack([np.ones(len(history)), *[history[:, -k:].mean(1) for k in lags]])
        forecasts[:, step] = design @ weights
        history = np.column_stack([history[:, 1:], forecasts[:, step]])
    return forecasts


def fit_log_variance_har(
    variance: np.ndarray, returns: np.ndarray, lags: list[int], floor_ratio: float
) -> dict[str, Any]:
    """HAR parameters of a per-row variance proxy: floor (floor_ratio times its median),
    coefficients, and the scale matching the one-step forecasts to the squared returns."""
    positive = variance[np.isfinite(variance) & (variance > 0)]
    floor = float(floor_ratio * np.median(positive))
    log_variance = np.log(np.maximum(np.nan_to_num(variance, nan=floor), floor))
    coefficients = fit_har(log_variance, lags)
    predicted = np.exp(har_forecasts(log_variance, coefficients, lags, 1)[:-1, 0])
    realised = returns[max(lags) :] ** 2
    keep = np.isfinite(realised)
    scale = float(realised[keep].mean() / predicted[keep].mean())
    return {"lags": list(lags), "coefficients": coefficients, "floor": floor, "scale": scale}


def variance_har_paths(
    variance: np.ndarray, params: dict[str, Any], n_origins: int, steps: int
) -> np.ndarray:
    """(n_origins, steps) sigma of the log move over 1..steps rows at the last ``n_origins``
    rows of a variance proxy (NaN where fewer than max(lags) rows are behind)."""
    lags, floor = [int(k) for k in params["lags"]], float(params["floor"])
    variance = variance[-(n_origins + max(lags) - 1) :]
    log_variance = np.log(np.maximum(np.nan_to_num(variance, nan=floor), floor))
    paths = np.full((n_origins, steps), np.nan)
    if len(log_variance) >= max(lags):
        forecasts = har_forecasts(log_variance, params["coefficients"], lags, steps)
        paths[-len(forecasts) :] = np.cumsum(params["scale"] * np.exp(forecasts), axis=1)
    return np.sqrt(paths)


def _variance(candles: Candles, settings: dict[str, Any]) -> np.ndarray:
    """The range variance under the configured estimator and wick bound."""
    return range_variance(
        candles, str(settings["har_range_estimator"]), float(settings["har_wick_bound"])
    )


def _fit(candles: Candles, settings: dict[str, Any], steps: int) -> Params:
    """HAR of the training candles' log range variance."""
    lags = [int(k) for k in settings["har_lags"]]
    params = fit_log_variance_har(
        _variance(candles, settings), candles.log_returns(), lags, float(settings["har_floor"])
    )
    logger.debug("HAR-range parameters: %s.", params)
    return params


def _paths(
    candles: Candles, settings: dict[str, Any], params: Params, n_origins: int, steps: int
) -> np.ndarray:
    """The HAR forecasts from the last max(lags) candles' range variance at every origin."""
    if params is None:
        raise ValueError("har_range needs its fitted parameters, got None.")
    recent = candles.rows(-(n_origins + _lookback(settings, params)), None)
    return variance_har_paths(_variance(recent, settings), params, n_origins, steps)


def _lookback(settings: dict[str, Any], params: Params) -> int:
    """The longest lag, plus one row for the first candle's opening gap."""
    lags = params["lags"] if params else settings["har_lags"]
    return max(int(k) for k in lags) + 1


HAR_RANGE = VolatilityModel(fit=_fit, paths=_paths, lookback=_lookback, scheduled=True)
