"""The walk-forward: the modelling recipe refitted every ``refit_every`` candles on its past
only, forecasting every origin the way inference and the served model do (the baselines on the
same origins and steps: baseline_walk.py)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..model.evaluation import fit_shrinkage
from ..model.forecaster import Forecaster, assemble_forecaster, forecast, origin_paths
from ..model.scaling import fit_scaler
from ..model.spec import ModelSpec
from ..model.split import hold_out_calibration
from ..model.table import prepare_model_table
from ..model.training import fine_tune, train_model
from ..model.volatility import fit_volatility
from .origins import Refit, make_refits
from .risk_scores import scored_levels

logger = logging.getLogger(__name__)


def fold_model_params(modelling: dict[str, Any], backtest: dict[str, Any]) -> dict[str, Any]:
    """The registered recipe (modelling parameters), silent, with an optional epoch budget."""
    overrides: dict[str, Any] = {"verbose": 0}
    if backtest["epochs"]:
        overrides["epochs"] = int(backtest["epochs"])
    return {**modelling, **overrides}


def make_origin_table(
    gold: pd.DataFrame, modelling: dict[str, Any], units: dict[str, str], backtest: dict[str, Any]
) -> tuple[pd.DataFrame, ModelSpec, pd.DataFrame]:
    """The model table and window spec of the modelling recipe, and one row per origin with
    the refit serving it."""
    table, spec = prepare_model_table(gold, fold_model_params(modelling, backtest), units)
    # A refit's training rows hold an inner train part of >= 1 window and a validation
    # part of >= min_calibration_windows windows.
    window = spec.n_timesteps + spec.horizon
    refits = make_refits(
        n_rows=len(table),
        n_origins=backtest["n_origins"],
        origin_step=backtest["origin_step"],
        refit_every=backtest["refit_every"],
        window=backtest["window"],
        window_size=backtest["window_size"],
        min_train_rows=2 * window + int(backtest["min_calibration_windows"]),
    )
    times = table["open_time"]
    origins = pd.DataFrame(
        [
            {
                "refit": refit.number,
                "train_start": refit.train_start,
                "origin": origin,
                "train_end": refit.train_end,
                "trained_until": times.iloc[refit.train_end - 1],
                "first_forecast": times.iloc[origin],
            }
            for refit in refits
            for origin in refit.origins
        ]
    )
    logger.info(
        "Walk-forward: %d origins (%s -> %s), %d refits every %d candles, %s window.",
        len(origins),
        origins["first_forecast"].iloc[0],
        origins["first_forecast"].iloc[-1],
        len(refits),
        backtest["refit_every"],
        backtest["window"],
    )
    return table, spec, origins


def refits_of(origin_table: pd.DataFrame) -> list[Refit]:
    """The refits described by an origin table."""
    return [
        Refit(int(number), int(rows["train_start"].iloc[0]), tuple(int(o) for o in rows["origin"]))
        for number, rows in origin_table.groupby("refit", sort=True)
    ]


def long_rows(
    table: pd.DataFrame, origin: int, model_name: str, closes: np.ndarray, refit: int
) -> pd.DataFrame:
    """One row per forecast step whose actual close is known: model, step, times, closes."""
    steps = min(len(closes), len(table) - origin)
    rows = slice(origin, origin + steps)
    return pd.DataFrame(
        {
            "refit": refit,
            "model": model_name,
            "origin": origin,
            "step": np.arange(1, steps + 1),
            "origin_time": table["open_time"].iloc[origin - 1],
            "target_time": table["open_time"].iloc[rows].to_numpy(),
            "last_close": table["close_usd"].iloc[origin - 1],
            "actual": table["close_usd"].iloc[rows].to_numpy(),
            "forecast": np.asarray(closes[:steps], dtype="float64"),
        }
    )


def _fit_network(
    table: pd.DataFrame,
    spec: ModelSpec,
    refit: Refit,
    model: Any,
    scaler: Any,
    params: dict[str, Any],
    backtest: dict[str, Any],
) -> tuple[Any, Any, list[float], dict[str, float] | None]:
    """Train (or fine-tune) the network on a refit's rows; returns it, its scaler, its
    shrinkage weights from the refit's calibration tail (after the early-stopping part of
    its validation rows) and the volatility model."""
    history = table.iloc[refit.train_start : refit.train_end].reset_index(drop=True)
    n, h = spec.n_timesteps, spec.horizon
    fraction = float(params["shrinkage"]["calibration_fraction"])
    n_validation = max(
        round(len(history) * backtest["validation_fraction"]),
        int(np.ceil((n + h - 1 + int(backtest["min_calibration_windows"])) / fraction)),
    )
    train, validation = history.iloc[:-n_validation], history.iloc[-n_validation:]
    validation, calibration = hold_out_calibration(validation, fraction, n, h)
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
    shrinkage = fit_shrinkage(
        model, scaler, calibration, spec, params["prediction_batch_size"], params["shrinkage"]
    )
    return model, scaler, shrinkage, fit_volatility(train, params["intervals"], params["horizon"])


def walk_forward_network(
    table: pd.DataFrame,
    spec: ModelSpec,
    origin_table: pd.DataFrame,
    silver: pd.DataFrame,
    modelling: dict[str, Any],
    feature_params: dict[str, Any],
    backtest: dict[str, Any],
) -> pd.DataFrame:
    """Refit the modelling recipe on each refit's past only and forecast each of its origins
    with inference's own ``forecast`` (shrinkage and adaptive intervals included)."""
    params = fold_model_params(modelling, backtest)
    frames, model, scaler = [], None, None
    levels = scored_levels(backtest["scoring"])  # the proper scores' quantiles
    bar = tqdm(total=len(origin_table), desc="walk-forward origins", unit="origin")
    for refit in refits_of(origin_table):
        model, scaler, shrinkage, volatility_params = _fit_network(
            table, spec, refit, model, scaler, params, backtest
        )
        forecaster = assemble_forecaster(
            model,
            scaler,
            spec,
            shrinkage,
            feature_params,
            modelling["intervals"],
            volatility_params,
        )
        # What a served request sends: the last min_candles candles (the features have
        # converged by then: the answer equals the full history's to ~1e-7), so that the
        # cost of an origin does not grow with the history.
        n_candles = max(forecaster.min_candles, int(modelling["registry"]["min_candles"]))
        for origin in refit.origins:
            origin_time = table["open_time"].iloc[origin]
            end = int(silver["open_time"].searchsorted(origin_time))
            result = forecast(
                silver.iloc[max(0, end - n_candles) : end],
                forecaster,
                int(backtest["horizon"]),
                levels,
            )
            if result["open_time"].iloc[0] != origin_time:
                raise ValueError(
                    "silver and gold disagree on the candle after the origin "
                    f"{origin_time}: run feature_engineering on the current silver first."
                )
            frame = long_rows(
                table,
                origin,
                params["network_name"],
                result["forecast_close"].to_numpy(),
                refit.number,
            )
            frame["shrinkage_weight"] = np.asarray(shrinkage)[frame["step"].to_numpy() - 1]
            bounds = ("lower_", "upper_", "quantile_")
            for column in [c for c in result.columns if c.startswith(bounds)]:
                frame[column] = result[column].to_numpy()[: len(frame)]
            frames.append(frame)
            bar.update()
        _log_refit(frames[-len(refit.origins) :], table, refit)
        frames.append(
            unshrunk_rows(
                table, forecaster, refit, params["network_name"], int(backtest["horizon"])
            )
        )
    bar.close()
    return pd.concat(frames, ignore_index=True)


def unshrunk_rows(
    table: pd.DataFrame, forecaster: Forecaster, refit: Refit, network_name: str, steps: int
) -> pd.DataFrame:
    """The network's own forecasts of a refit's origins, before shrinkage (weight 1 at
    every step), for up to ``steps`` steps within its direct horizon, as model
    ``<network_name>_unshrunk``: what the shrinkage gave up or spared, scored beside it
    (with no interval: points only)."""
    unshrunk = replace(forecaster, shrinkage=[1.0] * forecaster.spec.horizon)
    first, last = refit.origins[0], refit.origins[-1]
    # each origin's window ends on the row before it: rows first - 1 .. last - 1
    paths = origin_paths(unshrunk, table.iloc[:last], last - first + 1)
    return pd.concat(
        [
            long_rows(table, o, f"{network_name}_unshrunk", paths[o - first, :steps], refit.number)
            for o in refit.origins
        ],
        ignore_index=True,
    )


def _log_refit(frames: list[pd.DataFrame], table: pd.DataFrame, refit: Refit) -> None:
    """One line per refit: its origins and the one-step RMSE ratio to naive on them."""
    rows = pd.concat(frames)
    first = rows[rows["step"] == 1]
    ratio = np.sqrt(np.mean((first["actual"] - first["forecast"]) ** 2)) / max(
        np.sqrt(np.mean((first["actual"] - first["last_close"]) ** 2)), 1e-12
    )
    logger.info(
        "Refit %d (trained until %s): %d origins, step-1 RMSE ratio to naive %.4f.",
        refit.number,
        table["open_time"].iloc[refit.train_end - 1],
        len(first),
        ratio,
    )
