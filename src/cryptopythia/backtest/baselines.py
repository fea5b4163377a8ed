"""Baseline forecasts of the next ``horizon`` closes from the history alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

STATISTICAL_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA", "AutoCES")


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Persistence: every future close equals the last one."""
    return np.full(horizon, history[-1], dtype="float64")


def drift(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last close plus the average change over the history, per step."""
    slope = (history[-1] - history[0]) / (len(history) - 1)
    return history[-1] + slope * np.arange(1, horizon + 1)


def seasonal_naive(history: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Each future close equals the close one season earlier."""
    last_season = history[-season_length:]
    return last_season[np.arange(horizon) % season_length].astype("float64")


def moving_average(history: np.ndarray, horizon: int, window: int) -> np.ndarray:
    """The mean of the last ``window`` closes, for every step."""
    return np.full(horizon, history[-window:].mean(), dtype="float64")


def fit_statistical(history: np.ndarray, model: str, season_length: int) -> Any:
    """A statsforecast model (AutoETS, AutoARIMA, AutoTheta, AutoCES) fitted on log closes;
    ``forecast_statistical`` then forecasts from any later history with these parameters."""
    from statsforecast import models

    if model not in STATISTICAL_MODELS:
        raise ValueError(
            f"backtest.baselines.statistical_model={model!r} is not one of "
            f"{', '.join(STATISTICAL_MODELS)} (statsforecast); AutoETS is the fastest."
        )
    return getattr(models, model)(season_length=season_length).fit(
        np.log(history.astype("float64"))
    )


def forecast_statistical(fitted: Any, history: np.ndarray, horizon: int) -> np.ndarray:
    """The next ``horizon`` closes of a fitted statsforecast model, run over ``history``."""
    return np.exp(fitted.forward(y=np.log(history.astype("float64")), h=horizon)["mean"])


def point_baselines(params: dict[str, Any], season_length: int) -> dict[str, Callable]:
    """The enabled history-only baselines as ``name -> f(history, horizon)``."""
    forecasters: dict[str, Callable] = {"naive": naive, "drift": drift}
    forecasters["seasonal_naive"] = lambda h, n: seasonal_naive(h, n, season_length)
    window = int(params["moving_average_window"])
    forecasters[f"moving_average_{window}"] = lambda h, n: moving_average(h, n, window)
    return forecasters
