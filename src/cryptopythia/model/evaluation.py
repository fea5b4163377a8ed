"""USD forecasts of every window of a table, their scores against naive persistence, and
the split-conformal interval radii."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .scaling import inverse_target, scale_table
from .statistics import conformal_log_radius, forecast_scores
from .targets import target_to_close
from .training import KerasModel
from .windows import window_view

logger = logging.getLogger(__name__)


def _predict_paths(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: dict[str, Any], batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The network's raw outputs (n_windows, horizon) for every window of a table, and the
    USD close paths they forecast."""
    n_timesteps, horizon = spec["n_timesteps"], spec["horizon"]
    windows = window_view(scale_table(scaler, table, spec), n_timesteps, horizon)
    raw = model.predict(np.ascontiguousarray(windows), verbose=0, batch_size=batch_size)
    last_close = table["close_usd"].to_numpy()[n_timesteps - 1 : n_timesteps - 1 + len(windows)]
    return raw, target_to_close(inverse_target(scaler, raw), last_close, spec["target"])


def predict_closes(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: dict[str, Any], batch_size: int
) -> pd.DataFrame:
    """The model's USD forecasts for every window of a table, beside the actual close
    and the naive forecast (the window's last close)."""
    raw, paths = _predict_paths(model, scaler, table, spec, batch_size)
    origin = np.arange(len(paths)) + spec["n_timesteps"] - 1  # last row of each window
    target_row = origin + spec["horizon"]
    closes, times = table["close_usd"].to_numpy(), table["open_time"].to_numpy()
    return pd.DataFrame(
        {
            "origin_time": times[origin],
            "target_time": times[target_row],
            "last_close": closes[origin],
            "actual_close": closes[target_row],
            "predicted_close": paths[:, -1],
            "naive_close": closes[origin],
            "model_output": raw[:, -1].astype("float64"),
        }
    )


def window_paths(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: dict[str, Any], batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and actual USD close paths (n_windows, horizon) of every window of a table."""
    _, paths = _predict_paths(model, scaler, table, spec, batch_size)
    closes = table["close_usd"].to_numpy()[spec["n_timesteps"] :]
    return paths, sliding_window_view(closes, spec["horizon"])[: len(paths)]


def calibrate_intervals(
    model: KerasModel,
    scaler: Any,
    validation: pd.DataFrame,
    spec: dict[str, Any],
    coverage: list[float],
    batch_size: int,
) -> dict[str, list[float]]:
    """Split-conformal radii per horizon step and coverage ("80": [r_1..r_h]) from the
    validation windows: the interval forecast * exp(+-r) covers that share of them."""
    paths, actual = window_paths(model, scaler, validation, spec, batch_size)
    radii = {
        f"{round(c * 100)}": [
            conformal_log_radius(actual[:, step], paths[:, step], float(c))
            for step in range(spec["horizon"])
        ]
        for c in coverage
    }
    logger.info(
        "Conformal radii on %d validation windows: %s",
        len(paths),
        {k: [round(r, 4) for r in v] for k, v in radii.items()},
    )
    return radii


def evaluate_forecasts(
    predictions: pd.DataFrame, train: pd.DataFrame, horizon: int
) -> dict[str, Any]:
    """USD metrics of the model and of the naive forecast on the same test rows.

    MASE divides by the in-sample MAE of the naive ``horizon``-step forecast on the
    training closes. The naive forecast never predicts a move, so its directional
    accuracy is ~0; ``up_share`` (share of up moves) is the bar for the model's.
    """
    actual = predictions["actual_close"].to_numpy()
    last = predictions["last_close"].to_numpy()
    train_close = train["close_usd"].to_numpy()
    scale = float(np.mean(np.abs(train_close[horizon:] - train_close[:-horizon])))
    model = forecast_scores(actual, predictions["predicted_close"].to_numpy(), last, scale)
    naive = forecast_scores(actual, predictions["naive_close"].to_numpy(), last, scale)
    metrics: dict[str, Any] = {f"{k}": v for k, v in model.items()}
    metrics.update({f"naive_{k}": v for k, v in naive.items()})
    metrics["rmse_ratio_to_naive"] = model["rmse"] / naive["rmse"]
    metrics["up_share"] = float(np.mean(actual > last))
    metrics["n_test_windows"] = int(len(predictions))
    logger.info(
        "Test (USD, %d windows): RMSE %.2f vs naive %.2f (ratio %.4f), MAE %.2f, "
        "MAPE %.4f, R2 %.4f, directional accuracy %.3f, MASE %.4f.",
        len(predictions),
        model["rmse"],
        naive["rmse"],
        metrics["rmse_ratio_to_naive"],
        model["mae"],
        model["mape"],
        model["r2"],
        model["directional_accuracy"],
        model["mase"],
    )
    return metrics
