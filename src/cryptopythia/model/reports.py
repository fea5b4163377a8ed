"""metrics.json, its MLflow metrics and the modelling plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .network import resolve_precision
from .spec import ModelSpec


def build_report(
    metrics: dict[str, Any],
    history: dict[str, list[float]],
    predictions: pd.DataFrame,
    spec: ModelSpec,
    precision: str,
) -> dict[str, Any]:
    """metrics.json: test metrics (USD), training summary and what was evaluated."""
    val_loss = history["val_loss"]
    return {
        "test": metrics,
        "training": {
            "epochs_run": len(history["loss"]),
            "best_epoch": int(np.argmin(val_loss)) + 1,
            "best_val_loss": float(min(val_loss)),
            "median_samples_per_second": float(np.median(history["samples_per_second"])),
            "precision": resolve_precision(precision),
        },
        "test_period": {
            "first_target": str(predictions["target_time"].iloc[0]),
            "last_target": str(predictions["target_time"].iloc[-1]),
        },
        "spec": spec.to_dict(),
    }


def report_to_mlflow_metrics(
    report: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Final test and training metrics in MlflowMetricsHistoryDataset's format
    ({name: {value, step}}), logged as ``test.<name>`` and ``training.<name>``."""
    return tuple(  # type: ignore[return-value]
        {
            key: {"value": float(value), "step": 0}
            for key, value in report[part].items()
            if isinstance(value, int | float)
        }
        for part in ("test", "training")
    )


def history_to_mlflow_metrics(history: dict[str, list[float]]) -> dict[str, list[dict[str, float]]]:
    """Per-epoch metrics in MlflowMetricsHistoryDataset's format ({name: [{value, step}]})."""
    return {
        key: [{"value": float(v), "step": step} for step, v in enumerate(values, start=1)]
        for key, values in history.items()
    }


def plot_loss(history: dict[str, list[float]]) -> Figure:
    """Training and validation loss by epoch (the reference recipe's model_loss_by_epoch.png)."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    epochs = np.arange(1, len(history["loss"]) + 1)
    axes.plot(epochs, history["loss"], label="train")
    axes.plot(epochs, history["val_loss"], label="validation")
    best = int(np.argmin(history["val_loss"])) + 1
    axes.axvline(best, color="grey", linestyle="--", label=f"best epoch ({best})")
    axes.set(title="Model loss by epoch", xlabel="epoch", ylabel="MSE (scaled target)")
    axes.set_yscale("log")
    axes.legend()
    figure.tight_layout()
    return figure


def plot_predictions(
    predictions: pd.DataFrame, metrics: dict[str, Any], last_candles: int
) -> Figure:
    """The last ``last_candles`` one-step test forecasts (USD) against the actual close and
    naive persistence, with a panel of the errors of both."""
    rows = predictions[predictions["step"] == 1].tail(int(last_candles))
    figure = Figure(figsize=(11, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[2.2, 1])
    time_axis = pd.to_datetime(rows["target_time"])
    top.plot(time_axis, rows["actual_close"], label="actual", color="black", lw=1.2)
    top.plot(time_axis, rows["predicted_close"], label="model", color="tab:blue", lw=1.1)
    top.plot(
        time_axis,
        rows["naive_close"],
        label="naive (last close)",
        color="tab:orange",
        lw=0.9,
        linestyle=":",
    )
    top.set(
        title=(
            f"Test split, one step ahead: RMSE {metrics['rmse']:.0f} USD vs naive "
            f"{metrics['naive_rmse']:.0f} (ratio to naive {metrics['rmse_ratio_to_naive']:.3f})"
        ),
        ylabel="close (USD)",
    )
    top.legend(loc="upper left")
    bottom.axhline(0, color="grey", lw=0.8)
    bottom.plot(
        time_axis,
        rows["actual_close"] - rows["predicted_close"],
        color="tab:blue",
        lw=1,
        label="actual - model",
    )
    bottom.plot(
        time_axis,
        rows["actual_close"] - rows["naive_close"],
        color="tab:orange",
        lw=0.8,
        linestyle=":",
        label="actual - naive",
    )
    bottom.set(xlabel="date", ylabel="error (USD)")
    bottom.legend(loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
