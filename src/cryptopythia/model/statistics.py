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
    the move from ``last``, the close the forecast was made at, over the forecasts that
    call a direction) with the share that do, and MASE (MAE / ``scale``,
    a naive forecast's in-sample MAE)."""
    mse = mean_squared_error(actual, predicted)
    mae = mean_absolute_error(actual, predicted)
    return {
        "mse": float(mse),
        "rmse": float(np.sqrt(mse)),
        "mae": float(mae),
        "mape": float(mean_absolute_percentage_error(actual, predicted)),
        "r2": float(r2_score(actual, predicted)),
        **directional_scores(actual, predicted, last),
        "mase": float(mae / scale),
    }


def directional_scores(
    actual: np.ndarray, predicted: np.ndarray, last: np.ndarray
) -> dict[str, float]:
    """Directional accuracy over the forecasts that call a direction (the share whose move
    from ``last`` has the actual move's sign; NaN when none does, as for naive) and the
    share of forecasts that call one."""
    called = np.sign(predicted - last) != 0
    hits = np.sign(predicted - last) == np.sign(actual - last)
    return {
        "directional_accuracy": float(np.mean(hits[called])) if called.any() else float("nan"),
        "directional_calls": float(np.mean(called)),
    }


def long_run_variance(series: np.ndarray, lags: int, kernel: str = "bartlett") -> float:
    """The long-run variance of a series about its mean: the variance plus twice its
    autocovariances up to ``lags``, weighted 1 - lag / (lags + 1) (``bartlett``, Newey-West:
    never negative) or 1 (``uniform``, Diebold-Mariano's choice for h-step errors)."""
    centred = np.asarray(series, dtype="float64") - np.mean(series)
    n = len(centred)
    variance = float(np.dot(centred, centred)) / n
    for lag in range(1, min(lags + 1, n)):
        weight = 1.0 - lag / (lags + 1) if kernel == "bartlett" else 1.0
        variance += 2 * weight * float(np.dot(centred[lag:], centred[:-lag])) / n
    return variance


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
    variance = long_run_variance(differential, horizon - 1, kernel="uniform")
    if variance <= 0:
        return 0.0, 1.0
    statistic = differential.mean() / np.sqrt(variance / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic *= correction
    p_value = 2 * stats.t.sf(abs(statistic), df=n - 1)
    return float(statistic), float(p_value)


def one_sided_p_values(statistic: float, n: int) -> tuple[float, float]:
    """From a Diebold-Mariano statistic over ``n`` pairs: the p-values of "the model is
    better" (statistic < 0) and of "the model is worse" (statistic > 0)."""
    return float(stats.t.cdf(statistic, df=n - 1)), float(stats.t.sf(statistic, df=n - 1))


def interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, coverage: float
) -> np.ndarray:
    """Winkler's interval score of each forecast (lower is better): the width, plus
    2 / alpha times the miss distance when the actual falls outside (alpha = 1 - coverage)."""
    alpha = 1.0 - coverage
    below, above = np.maximum(lower - actual, 0.0), np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)
