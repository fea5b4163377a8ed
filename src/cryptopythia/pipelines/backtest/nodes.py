"""Nodes of the backtest pipeline: walk-forward folds of the network and the baselines,
their scores, intervals and the Diebold–Mariano test against naive persistence."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..data_engineering.klines import INTERVALS, check_interval
from ..inference.forecasting import Forecaster, forecast
from ..modelling.nodes import (
    calibrate_intervals,
    fit_scaler,
    prepare_model_table,
    scale_table,
    train_model,
    window_dataset,
)
from .baselines import baseline_forecasters
from .folds import Fold, make_folds
from ...forecast_statistics import diebold_mariano, forecast_scores

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

NETWORK = "conv1d_lstm"


def season_length(interval: str, configured: int | None) -> int:
    """The seasonal naive's period in candles: a year of weekly or monthly candles, a
    week of daily (or longer) ones, a day of intraday ones."""
    if configured:
        return int(configured)
    length = INTERVALS[check_interval(interval)]
    if length is None:  # calendar months
        return 12
    if length >= pd.Timedelta(weeks=1):
        season = pd.Timedelta(weeks=52)
    elif length >= pd.Timedelta(days=1):
        season = pd.Timedelta(weeks=1)
    else:
        season = pd.Timedelta(days=1)
    return max(int(season // length), 1)


def fold_model_params(modelling: dict[str, Any], backtest: dict[str, Any]) -> dict[str, Any]:
    """The registered recipe (modelling parameters), silent, with an optional epoch budget."""
    overrides: dict[str, Any] = {"verbose": 0}
    if backtest.get("epochs"):
        overrides["epochs"] = int(backtest["epochs"])
    return {**modelling, **overrides}


def prepare_backtest(
    gold: pd.DataFrame, modelling: dict[str, Any], backtest: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """The model table and window spec of the modelling recipe, and the folds."""
    table, spec = prepare_model_table(gold, fold_model_params(modelling, backtest))
    # A fold's training rows hold an inner train part of >= 1 window and a validation
    # part of >= min_calibration_windows windows.
    window = spec["n_timesteps"] + spec["horizon"]
    min_rows = 2 * window + int(backtest["min_calibration_windows"])
    folds = make_folds(
        n_rows=len(table),
        n_folds=int(backtest["n_folds"]),
        step=int(backtest["step"]),
        horizon=int(backtest["horizon"]),
        window=backtest["window"],
        window_size=backtest.get("window_size"),
        min_train_rows=min_rows,
    )
    times = table["open_time"]
    fold_table = pd.DataFrame(
        {
            "fold": [f.number for f in folds],
            "train_start": [f.train_start for f in folds],
            "origin": [f.origin for f in folds],
            "test_end": [f.test_end for f in folds],
            "train_from": [times.iloc[f.train_start] for f in folds],
            "first_forecast": [times.iloc[f.origin] for f in folds],
            "last_forecast": [times.iloc[f.test_end - 1] for f in folds],
        }
    )
    logger.info(
        "Backtest: %d folds of %d steps, origins %s -> %s, %s window.",
        len(folds), backtest["horizon"], fold_table["first_forecast"].iloc[0],
        fold_table["first_forecast"].iloc[-1], backtest["window"],
    )
    return table, spec, fold_table


def _folds(fold_table: pd.DataFrame) -> list[Fold]:
    return [
        Fold(int(r.fold), int(r.train_start), int(r.origin), int(r.test_end - r.origin))
        for r in fold_table.itertuples()
    ]


def _long_rows(
    fold: Fold, model_name: str, table: pd.DataFrame, forecast: np.ndarray
) -> pd.DataFrame:
    rows = slice(fold.origin, fold.test_end)
    return pd.DataFrame(
        {
            "fold": fold.number,
            "model": model_name,
            "step": np.arange(1, fold.horizon + 1),
            "origin_time": table["open_time"].iloc[fold.origin - 1],
            "target_time": table["open_time"].iloc[rows].to_numpy(),
            "last_close": table["close_usd"].iloc[fold.origin - 1],
            "actual": table["close_usd"].iloc[rows].to_numpy(),
            "forecast": np.asarray(forecast, dtype="float64"),
        }
    )


def _continue_training(
    model: keras.Model, train: pd.DataFrame, validation: pd.DataFrame, scaler: Any,
    spec: dict[str, Any], params: dict[str, Any], backtest: dict[str, Any],
) -> keras.Model:
    """Fine-tune an already trained network on a fold's rows (early stopping kept)."""
    import keras

    n, h, batch = spec["n_timesteps"], spec["horizon"], params["batch_size"]
    model.fit(
        window_dataset(scale_table(scaler, train, spec), n, h, batch, shuffle=True,
                       seed=params["seed"]),
        validation_data=window_dataset(scale_table(scaler, validation, spec), n, h, batch),
        epochs=int(backtest["finetune_epochs"]),
        callbacks=[keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=int(backtest["finetune_patience"]),
            restore_best_weights=True)],
        verbose=0,
    )
    return model


def backtest_network(  # noqa: PLR0913
    table: pd.DataFrame,
    spec: dict[str, Any],
    fold_table: pd.DataFrame,
    silver: pd.DataFrame,
    modelling: dict[str, Any],
    feature_params: dict[str, Any],
    backtest: dict[str, Any],
) -> pd.DataFrame:
    """Train the modelling recipe on each fold's past only and forecast the fold's steps
    the way inference does (``forecasting.forecast``: direct up to the network's
    horizon, recursive beyond), with intervals calibrated on the fold's validation rows."""
    params = fold_model_params(modelling, backtest)
    n, h = spec["n_timesteps"], spec["horizon"]
    frames, model, scaler = [], None, None
    for fold in tqdm(_folds(fold_table), desc="backtest folds", unit="fold"):
        history = table.iloc[fold.train_start : fold.origin].reset_index(drop=True)
        n_validation = max(
            round(len(history) * backtest["validation_fraction"]),
            n + h - 1 + int(backtest["min_calibration_windows"]),
        )
        train, validation = history.iloc[:-n_validation], history.iloc[-n_validation:]
        if model is None or backtest["retrain"] == "full":
            scaler = fit_scaler(train, spec)
            model, _ = train_model(train, validation, scaler, spec, params)
        else:
            model = _continue_training(model, train, validation, scaler, spec, params, backtest)
        forecaster = Forecaster(
            model=model, scaler=scaler, spec=spec, feature_params=feature_params,
            interval=spec["interval"],
            radii=calibrate_intervals(model, scaler, validation, spec, backtest["coverage"]),
        )
        origin_time = table["open_time"].iloc[fold.origin]
        result = forecast(silver[silver["open_time"] < origin_time], forecaster, fold.horizon)
        expected_times = table["open_time"].iloc[fold.origin : fold.test_end].to_numpy()
        if not np.array_equal(result["open_time"].to_numpy(), expected_times):
            raise ValueError(
                "silver and gold disagree on the candles after the origin "
                f"{origin_time}: run feature_engineering on the current silver first."
            )
        frame = _long_rows(fold, NETWORK, table, result["forecast_close"].to_numpy())
        for column in [c for c in result.columns if c.startswith(("lower_", "upper_"))]:
            frame[column] = result[column].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def backtest_baselines(
    table: pd.DataFrame, spec: dict[str, Any], fold_table: pd.DataFrame, backtest: dict[str, Any]
) -> pd.DataFrame:
    """Every baseline's forecast from each fold's training rows, same origins and steps."""
    settings = backtest["baselines"]
    forecasters = baseline_forecasters(
        settings, season_length(spec["interval"], settings.get("season_length"))
    )
    closes = table["close_usd"].to_numpy()
    frames = []
    for fold in _folds(fold_table):
        history = closes[fold.train_start : fold.origin]
        for name, forecaster in forecasters.items():
            frames.append(_long_rows(fold, name, table, forecaster(history, fold.horizon)))
    return pd.concat(frames, ignore_index=True)


def _mase_scale(table: pd.DataFrame, fold_table: pd.DataFrame) -> pd.Series:
    """Per fold: the in-sample MAE of the one-step naive forecast on its training rows."""
    closes = table["close_usd"].to_numpy()
    return pd.Series(
        {
            int(r.fold): float(np.mean(np.abs(np.diff(closes[r.train_start : r.origin]))))
            for r in fold_table.itertuples()
        }
    )


def score_backtest(
    network: pd.DataFrame, baselines: pd.DataFrame, table: pd.DataFrame, fold_table: pd.DataFrame
) -> pd.DataFrame:
    """The backtest table: each model's RMSE, MAE, MAPE, MASE, directional accuracy (and
    interval coverage) overall, per horizon step and per fold."""
    forecasts = pd.concat([network, baselines], ignore_index=True)
    scales = _mase_scale(table, fold_table)
    rows = []
    groupings = {"overall": [], "step": ["step"], "fold": ["fold"]}
    for scope, keys in groupings.items():
        for key, group in forecasts.groupby(["model", *keys], sort=False):
            model, *values = key if isinstance(key, tuple) else (key,)
            scores = forecast_scores(
                group["actual"].to_numpy(),
                group["forecast"].to_numpy(),
                group["last_close"].to_numpy(),
                float(scales.loc[group["fold"].unique()].mean()),
            )
            row = {"model": model, "scope": scope, "key": values[0] if values else "all",
                   "n": len(group), **{k: scores[k] for k in
                                        ("rmse", "mae", "mape", "mase", "directional_accuracy")}}
            for lower in [c for c in group.columns if c.startswith("lower_")]:
                if group[lower].isna().all():
                    continue  # baselines carry no interval
                upper = lower.replace("lower_", "upper_")
                inside = (group["actual"] >= group[lower]) & (group["actual"] <= group[upper])
                row[f"coverage_{lower.removeprefix('lower_')}"] = float(inside.mean())
            rows.append(row)
    scores = pd.DataFrame(rows)
    naive = scores[scores["model"] == "naive"].set_index(["scope", "key"])["rmse"]
    scores["rmse_ratio_to_naive"] = [
        r.rmse / naive.loc[(r.scope, r.key)] for r in scores.itertuples()
    ]
    return scores


def compare_with_naive(network: pd.DataFrame, baselines: pd.DataFrame) -> dict[str, Any]:
    """Diebold–Mariano tests of the network against naive, overall and per step."""
    naive = baselines[baselines["model"] == "naive"].set_index(["fold", "step"])["forecast"]
    paired = network.set_index(["fold", "step"]).join(naive.rename("naive"))
    paired = paired.sort_index()
    errors_model = paired["actual"] - paired["forecast"]
    errors_naive = paired["actual"] - paired["naive"]
    horizon = int(paired.index.get_level_values("step").max())
    statistic, p_value = diebold_mariano(errors_model, errors_naive, horizon)
    result: dict[str, Any] = {
        "overall": {"statistic": statistic, "p_value": p_value, "n": len(paired)}
    }
    for step, group in paired.groupby(level="step"):
        if len(group) >= 2:
            s, p = diebold_mariano(group["actual"] - group["forecast"],
                                   group["actual"] - group["naive"], 1)
            result[f"step_{step}"] = {"statistic": s, "p_value": p, "n": len(group)}
    logger.info(
        "Diebold–Mariano, network vs naive over %d forecasts: statistic %.3f, p %.3f "
        "(negative: the network's squared errors are smaller).",
        len(paired), statistic, p_value,
    )
    return result


def backtest_metrics(scores: pd.DataFrame, comparison: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers for MLflow: overall metrics per model, coverage, DM test."""
    overall = scores[scores["scope"] == "overall"]
    metrics: dict[str, Any] = {}
    for row in overall.itertuples():
        for name in ("rmse", "mae", "mape", "mase", "directional_accuracy", "rmse_ratio_to_naive"):
            metrics[f"{row.model}.{name}"] = {"value": float(getattr(row, name)), "step": 0}
    for column in [c for c in overall.columns if c.startswith("coverage_")]:
        value = overall.loc[overall["model"] == NETWORK, column].iloc[0]
        metrics[f"{NETWORK}.{column}"] = {"value": float(value), "step": 0}
    metrics["dm_statistic"] = {"value": comparison["overall"]["statistic"], "step": 0}
    metrics["dm_p_value"] = {"value": comparison["overall"]["p_value"], "step": 0}
    return metrics


def plot_backtest(scores: pd.DataFrame) -> Figure:
    """RMSE by fold and by horizon step, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for axis, scope, label in ((axes[0], "fold", "fold"), (axes[1], "step", "horizon step")):
        part = scores[scores["scope"] == scope]
        for model, group in part.groupby("model", sort=False):
            width = 2.2 if model == NETWORK else 1.0
            axis.plot(group["key"].astype(int), group["rmse"], marker="o", lw=width, label=model)
        axis.set_xlabel(label)
        axis.set_ylabel("RMSE (USD)")
        axis.set_title(f"Walk-forward RMSE by {label}")
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    return figure
