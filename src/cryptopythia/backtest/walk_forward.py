"""The walk-forward: folds of the modelling recipe and of the baselines, each trained on
its past only and forecasting the fold's steps the way inference does."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..candles import INTERVALS, check_interval
from ..model.evaluation import calibrate_intervals
from ..model.forecaster import Forecaster, forecast
from ..model.scaling import fit_scaler
from ..model.table import prepare_model_table
from ..model.training import fine_tune, train_model
from .baselines import baseline_forecasters
from .folds import Fold, make_folds

logger = logging.getLogger(__name__)


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
    if backtest["epochs"]:
        overrides["epochs"] = int(backtest["epochs"])
    return {**modelling, **overrides}


def make_fold_table(
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
        window_size=backtest["window_size"],
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
        len(folds),
        backtest["horizon"],
        fold_table["first_forecast"].iloc[0],
        fold_table["first_forecast"].iloc[-1],
        backtest["window"],
    )
    return table, spec, fold_table


def _folds(fold_table: pd.DataFrame) -> list[Fold]:
    return [
        Fold(int(r.fold), int(r.train_start), int(r.origin), int(r.test_end - r.origin))
        for r in fold_table.itertuples()
    ]


def _long_rows(
    fold: Fold, model_name: str, table: pd.DataFrame, forecast_closes: np.ndarray
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
            "forecast": np.asarray(forecast_closes, dtype="float64"),
        }
    )


def walk_forward_network(  # noqa: PLR0913
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
            model = fine_tune(
                model,
                train,
                validation,
                scaler,
                spec,
                params,
                backtest["finetune_epochs"],
                backtest["finetune_patience"],
            )
        forecaster = Forecaster(
            model=model,
            scaler=scaler,
            spec=spec,
            feature_params=feature_params,
            interval=spec["interval"],
            radii=calibrate_intervals(
                model,
                scaler,
                validation,
                spec,
                backtest["coverage"],
                params["prediction_batch_size"],
            ),
        )
        origin_time = table["open_time"].iloc[fold.origin]
        result = forecast(silver[silver["open_time"] < origin_time], forecaster, fold.horizon)
        expected_times = table["open_time"].iloc[fold.origin : fold.test_end].to_numpy()
        if not np.array_equal(result["open_time"].to_numpy(), expected_times):
            raise ValueError(
                "silver and gold disagree on the candles after the origin "
                f"{origin_time}: run feature_engineering on the current silver first."
            )
        frame = _long_rows(fold, params["network_name"], table, result["forecast_close"].to_numpy())
        for column in [c for c in result.columns if c.startswith(("lower_", "upper_"))]:
            frame[column] = result[column].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def walk_forward_baselines(
    table: pd.DataFrame, spec: dict[str, Any], fold_table: pd.DataFrame, backtest: dict[str, Any]
) -> pd.DataFrame:
    """Every baseline's forecast from each fold's training rows, same origins and steps."""
    settings = backtest["baselines"]
    forecasters = baseline_forecasters(
        settings, season_length(spec["interval"], settings["season_length"])
    )
    closes = table["close_usd"].to_numpy()
    frames = []
    for fold in _folds(fold_table):
        history = closes[fold.train_start : fold.origin]
        for name, forecaster in forecasters.items():
            frames.append(_long_rows(fold, name, table, forecaster(history, fold.horizon)))
    return pd.concat(frames, ignore_index=True)
