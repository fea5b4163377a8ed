"""Forecast comparison and calibration: Diebold–Mariano test, split-conformal intervals."""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)


def forecast_scores(
    actual: np.ndarray, predicted: np.ndarray, last: np.ndarray, scale: float
) -> dict[str, float]:
    """USD accuracy of forecasts: MSE, RMSE, MAE, MAPE, R², directional accuracy (sign of
    the move from ``last``, the close the forecast was made at) and MASE (MAE / ``scale``,
    a naive forecast's in-sample MAE)."""
    mse = mean_squared_error(actual, predicted)
    mae = mean_absolute_error(actual, predicted)
    return {
        "mse": float(mse),
        "rmse": float(np.sqrt(mse)),
        "mae": float(mae),
        "mape": float(mean_absolute_percentage_error(actual, predicted)),
        "r2": float(r2_score(actual, predicted)),
        "directional_accuracy": float(np.mean(np.sign(predicted - last) == np.sign(actual - last))),
        "mase": float(mae / scale),
    }


def diebold_mariano(
    errors_model: np.ndarray, errors_reference: np.ndarray, horizon: int = 1
) -> tuple[float, float]:
    """DM statistic and two-sided p-value for equal squared-error accuracy.

    Uses the Harvey–Leybourne–Newbold small-sample correction and a Student-t with
    n - 1 degrees of freedom; the long-run variance counts autocovariances up to lag
    ``horizon - 1``. A negative statistic means the model's errors are smaller.
    """
    differential = np.asarray(errors_model, float) ** 2 - np.asarray(errors_reference, float) ** 2
    n = len(differential)
    if n < 2:
        raise ValueError("The Diebold–Mariano test needs at least 2 paired forecast errors.")
    centred = differential - differential.mean()
    variance = np.dot(centred, centred) / n
    for lag in range(1, min(horizon, n)):
        variance += 2 * np.dot(centred[lag:], centred[:-lag]) / n
    if variance <= 0:
        return 0.0, 1.0
    statistic = differential.mean() / np.sqrt(variance / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic *= correction
    p_value = 2 * stats.t.sf(abs(statistic), df=n - 1)
    return float(statistic), float(p_value)


def conformal_log_radius(actual: np.ndarray, forecast: np.ndarray, coverage: float) -> float:
    """Split-conformal radius on |log(actual / forecast)| for the given coverage.

    The interval ``forecast * exp(±radius)`` covers a new exchangeable point with
    probability >= ``coverage`` (finite-sample quantile ceil((n + 1) * coverage) / n).
    """
    if not 0 < coverage < 1:
        raise ValueError(f"Interval coverage must be in (0, 1), got {coverage}.")
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    # A forecast <= 0 USD (a diverged diff model) is infinitely far from any price.
    ratio = np.divide(actual, forecast, out=np.zeros_like(actual), where=forecast > 0)
    scores = np.where(
        ratio > 0, np.abs(np.log(ratio, where=ratio > 0, out=np.ones_like(ratio))), np.inf
    )
    n = len(scores)
    rank = int(np.ceil((n + 1) * coverage))
    if rank > n:
        raise ValueError(
            f"{n} calibration residuals cannot calibrate a {coverage:.0%} interval; it "
            f"needs at least {int(np.ceil(coverage / (1 - coverage)))}."
        )
    return float(np.sort(scores)[rank - 1])
