"""USD forecasts of every window of a table, their scores against naive persistence, and
the shrinkage weights fitted on the validation windows."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .scaling import inverse_target, scale_table
from .shrinkage import fit_weights, shrink
from .spec import ModelSpec
from .statistics import forecast_scores
from .targets import target_to_close
from .training import KerasModel
from .windows import window_view

logger = logging.getLogger(__name__)


def _predict_paths(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: ModelSpec, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every window of a table with a known future: the network's raw outputs
    (n_windows, horizon), the USD close paths they forecast and the last close."""
    n_timesteps, horizon = spec.n_timesteps, spec.horizon
    windows = window_view(scale_table(scaler, table, spec), n_timesteps, horizon)
    raw = model.predict(np.ascontiguousarray(windows), verbose=0, batch_size=batch_size)
    last_close = table["close_usd"].to_numpy()[n_timesteps - 1 : n_timesteps - 1 + len(windows)]
    paths = target_to_close(inverse_target(scaler, raw), last_close, spec.target)
    return raw, paths, last_close


def window_paths(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: ModelSpec, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast and actual USD close paths (n_windows, horizon) of every window of a table,
    and each window's last close."""
    _, paths, last_close = _predict_paths(model, scaler, table, spec, batch_size)
    closes = table["close_usd"].to_numpy()[spec.n_timesteps :]
    return paths, sliding_window_view(closes, spec.horizon)[: len(paths)], last_close


def fit_shrinkage(
    model: KerasModel,
    scaler: Any,
    validation: pd.DataFrame,
    spec: ModelSpec,
    batch_size: int,
    shrinkage: dict[str, Any],
) -> list[float]:
    """Per step, the weight in [0, 1] of the network's predicted move that minimises the
    squared error on the validation windows, 0 without evidence of skill (all 1.0 when
    ``shrinkage.enabled`` is false)."""
    if not shrinkage["enabled"]:
        return [1.0] * spec.horizon
    paths, actual, last_close = window_paths(model, scaler, validation, spec, batch_size)
    weights = fit_weights(
        paths, actual, last_close, spec.target, float(shrinkage["min_t_statistic"])
    )
    logger.info(
        "Shrinkage towards naive on %d validation windows: weights by step %s.",
        len(paths),
        [round(w, 3) for w in weights],
    )
    return weights


def predict_closes(
    model: KerasModel,
    scaler: Any,
    table: pd.DataFrame,
    spec: ModelSpec,
    batch_size: int,
    shrinkage: list[float],
) -> pd.DataFrame:
    """The model's (shrunk) USD forecasts for every window of a table and every step, beside
    the actual close and the naive forecast (the window's last close); one row per
    (origin, step)."""
    raw, paths, last_close = _predict_paths(model, scaler, table, spec, batch_size)
    paths = shrink(paths, last_close, np.asarray(shrinkage), spec.target)
    n_windows, horizon = paths.shape
    origin = np.arange(n_windows) + spec.n_timesteps - 1  # last row of each window
    closes, times = table["close_usd"].to_numpy(), table["open_time"].to_numpy()
    steps = np.arange(1, horizon + 1)
    target_row = (origin[:, None] + steps[None, :]).reshape(-1)
    return pd.DataFrame(
        {
            "origin_time": np.repeat(times[origin], horizon),
            "step": np.tile(steps, n_windows),
            "target_time": times[target_row],
            "last_close": np.repeat(last_close, horizon),
            "actual_close": closes[target_row],
            "predicted_close": paths.reshape(-1),
            "naive_close": np.repeat(last_close, horizon),
            "model_output": np.asarray(raw, dtype="float64").reshape(-1),
        }
    )


def evaluate_forecasts(predictions: pd.DataFrame, train: pd.DataFrame) -> dict[str, Any]:
    """USD metrics of the model and of the naive forecast on the same test rows: the
    headline at step 1, and the RMSE and MAE ratios to naive at every step.

    MASE divides by the in-sample MAE of the naive one-step forecast on the training
    closes. Directional accuracy counts the forecasts that call a direction (naive calls
    none: it has no such score); ``up_share`` (share of up moves) is the bar for it.
    """
    train_close = train["close_usd"].to_numpy()
    scale = float(np.mean(np.abs(np.diff(train_close))))
    metrics: dict[str, Any] = {}
    for step, rows in predictions.groupby("step"):
        actual, last = rows["actual_close"].to_numpy(), rows["last_close"].to_numpy()
        model = forecast_scores(actual, rows["predicted_close"].to_numpy(), last, scale)
        naive = forecast_scores(actual, rows["naive_close"].to_numpy(), last, scale)
        if step == 1:
            metrics.update(model)
            metrics.update({f"naive_{k}": v for k, v in naive.items() if not np.isnan(v)})
            metrics["rmse_ratio_to_naive"] = model["rmse"] / naive["rmse"]
            metrics["up_share"] = float(np.mean(actual > last))
            metrics["n_test_windows"] = len(rows)
        metrics[f"rmse_ratio_to_naive_step_{step}"] = model["rmse"] / naive["rmse"]
        metrics[f"mae_ratio_to_naive_step_{step}"] = model["mae"] / naive["mae"]
    logger.info(
        "Test (USD, %d windows, step 1): RMSE %.2f vs naive %.2f (ratio %.4f), MAE %.2f, "
        "R2 %.4f, directional accuracy %.3f (up share %.3f); RMSE ratio by step %s.",
        metrics["n_test_windows"],
        metrics["rmse"],
        metrics["naive_rmse"],
        metrics["rmse_ratio_to_naive"],
        metrics["mae"],
        metrics["r2"],
        metrics["directional_accuracy"],
        metrics["up_share"],
        [round(v, 4) for k, v in metrics.items() if k.startswith("rmse_ratio_to_naive_step")],
    )
    return metrics
