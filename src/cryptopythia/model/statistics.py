"""Forecast comparison and calibration: Diebold–Mariano test, interval score, and the
Kupiec and Christoffersen tests of a Value-at-Risk's exceedances."""

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
    return diebold_mariano_losses(
        np.asarray(errors_model, float) ** 2, np.asarray(errors_reference, float) ** 2, horizon
    )


def diebold_mariano_losses(
    loss_model: np.ndarray, loss_reference: np.ndarray, horizon: int = 1
) -> tuple[float, float]:
    """``diebold_mariano`` of any paired losses (squared errors, interval scores, ...):
    statistic and two-sided p-value of equal expected loss; negative: the model's losses
    are smaller."""
    differential = np.asarray(loss_model, float) - np.asarray(loss_reference, float)
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


# Value-at-Risk backtests: the walk-forward's (backtest) and the live monitor's
# (monitoring) one home.
def kupiec_p_value(exceedances: np.ndarray, probability: float) -> float:
    """Kupiec's proportion-of-failures test: the p-value of "the bound is exceeded with
    ``probability``" (likelihood ratio, chi-squared with one degree of freedom)."""
    n, hits = len(exceedances), int(np.sum(exceedances))
    if n == 0:
        return float("nan")
    rate = hits / n
    null = stats.binom.logpmf(hits, n, probability)
    fitted = stats.binom.logpmf(hits, n, rate)
    return float(stats.chi2.sf(max(2.0 * (fitted - null), 0.0), df=1))


def christoffersen_p_value(exceedances: np.ndarray) -> float:
    """Christoffersen's independence test: the p-value of "an exceedance is as likely after
    an exceedance as after none" (first-order Markov likelihood ratio, one degree of
    freedom); 1 when the sequence has no transition to test."""
    hits = np.asarray(exceedances, dtype=bool)
    before, after = hits[:-1], hits[1:]
    counts = {
        (a, b): int(np.sum((before == a) & (after == b)))
        for a in (False, True)
        for b in (False, True)
    }
    n0, n1 = (
        counts[(False, False)] + counts[(False, True)],
        counts[(True, False)] + counts[(True, True)],
    )
    if n0 == 0 or n1 == 0:
        return 1.0
    pi0, pi1 = counts[(False, True)] / n0, counts[(True, True)] / n1
    pi = (counts[(False, True)] + counts[(True, True)]) / (n0 + n1)

    def log_likelihood(p: float, stay: int, move: int) -> float:
        return stay * np.log(max(1 - p, 1e-300)) + move * np.log(max(p, 1e-300))

    independent = log_likelihood(
        pi,
        counts[(False, False)] + counts[(True, False)],
        counts[(False, True)] + counts[(True, True)],
    )
    markov = log_likelihood(pi0, counts[(False, False)], counts[(False, True)]) + log_likelihood(
        pi1, counts[(True, False)], counts[(True, True)]
    )
    return float(stats.chi2.sf(max(2.0 * (markov - independent), 0.0), df=1))
