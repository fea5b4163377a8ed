"""The baselines' walk-forward: every baseline forecasts the same origins and steps as the
network's walk-forward (walk_forward.py), from the closes before each origin only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..candles import INTERVALS, check_interval
from ..model.quantiles import quantile_column
from ..model.spec import ModelSpec
from ..model.volatility import candles_of
from .baselines import fit_statistical, forecast_statistical, point_baselines
from .risk_scores import scored_levels
from .volatility import bounds, random_walk_quantiles, random_walk_sigmas
from .walk_forward import long_rows, refits_of


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


def walk_forward_baselines(
    table: pd.DataFrame,
    spec: ModelSpec,
    origin_table: pd.DataFrame,
    backtest: dict[str, Any],
    intervals: dict[str, Any],
) -> pd.DataFrame:
    """Every baseline's forecast of each origin from the candles before it; the random walks
    with the volatility models of ``baselines.volatility_anchors`` carry intervals and the
    quantiles of the proper scores (``backtest.scoring``) too."""
    settings, horizon = backtest["baselines"], int(backtest["horizon"])
    forecasters = point_baselines(settings, season_length(spec.interval, settings["season_length"]))
    closes = table["close_usd"].to_numpy()
    candles = candles_of(table)
    levels = scored_levels(backtest["scoring"])  # the proper scores' quantiles
    frames = []
    for refit in refits_of(origin_table):
        history_start = refit.train_start
        statistical = settings["statistical_model"]
        fitted = (
            fit_statistical(
                closes[history_start : refit.train_end],
                statistical,
                int(settings["statistical_season_length"]),
            )
            if statistical
            else None
        )
        sigmas = {
            f"naive_{volatility}": random_walk_sigmas(
                candles, list(refit.origins), horizon, intervals, volatility, history_start
            )
            for volatility in settings["volatility_anchors"]
        }
        for position, origin in enumerate(refit.origins):
            history = closes[history_start:origin]
            for name, function in forecasters.items():
                frames.append(
                    long_rows(table, origin, name, function(history, horizon), refit.number)
                )
            if fitted is not None:
                frames.append(
                    long_rows(
                        table,
                        origin,
                        statistical,
                        forecast_statistical(fitted, history, horizon),
                        refit.number,
                    )
                )
            for name, log_sigmas in sigmas.items():
                frame = long_rows(table, origin, name, np.full(horizon, history[-1]), refit.number)
                for coverage in intervals["coverage"]:
                    lower, upper = bounds(history[-1], log_sigmas[position], float(coverage))
                    frame[f"lower_{round(coverage * 100)}"] = lower[: len(frame)]
                    frame[f"upper_{round(coverage * 100)}"] = upper[: len(frame)]
                quantiles = random_walk_quantiles(history[-1], log_sigmas[position], levels)
                for level, values in zip(levels, quantiles, strict=True):
                    frame[quantile_column(level)] = values[: len(frame)]
                frames.append(frame)
    return pd.concat(frames, ignore_index=True)
