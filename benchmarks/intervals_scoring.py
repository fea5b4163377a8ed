"""The scoring of benchmarks/intervals.py: per origin, step and coverage, the interval score
and hit of a zero-weight forecaster's intervals (built by the library's own code path) and
of the EWMA random walk's, and their means.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from cryptopythia.backtest.volatility import bounds, random_walk_sigmas
from cryptopythia.model.forecaster import Forecaster, interval_quantiles
from cryptopythia.model.statistics import interval_score
from cryptopythia.model.volatility import fit_volatility, lookback

EWMA_WALK = "naive, EWMA random-walk intervals"


def walk(
    candles: pd.DataFrame,
    origins: range,
    settings: dict[str, Any],
    refit_every: int,
    horizon: int,
) -> pd.DataFrame:
    """One row per (origin, step, coverage) of a zero-weight forecaster's intervals and of
    the EWMA random walk's: interval score and hit. An origin is the first forecast row:
    its forecasts are made from the candles before it (a model table: ``*_usd`` columns)."""
    closes = candles["close_usd"].to_numpy()
    rows: list[dict[str, Any]] = []
    for start in range(origins.start, origins.stop, refit_every):
        block = list(range(start, min(start + refit_every, origins.stop)))
        # the refit's volatility model: the inner train part (0.85) of the rows before it
        params = fit_volatility(candles.iloc[: int(start * 0.85)], settings, horizon)
        forecaster = Forecaster(
            model=None,
            scaler=None,
            spec=SimpleNamespace(horizon=horizon, interval=""),  # what interval_quantiles reads
            feature_params={},
            shrinkage=[0.0] * horizon,
            intervals=settings,
            volatility_params=params,
        )
        replay = forecaster.replay_origins + horizon + 1  # as model.forecaster.forecast
        behind = max(int(settings["ewma_window"]), lookback(settings, params))
        rows_read = replay + behind + 1  # all volatility_paths reads
        ewma = random_walk_sigmas(closes, block, horizon, settings, "ewma", 0)
        for position, origin in enumerate(block):
            if origin < rows_read:
                raise ValueError(f"origin {origin} has fewer than {rows_read} candles before it.")
            recent = closes[origin - rows_read : origin]
            paths = np.repeat(recent[-replay:, None], horizon, axis=1)  # naive: the last close
            function = interval_quantiles(
                forecaster, candles.iloc[origin - rows_read : origin], paths, horizon
            )
            steps = np.arange(1, min(horizon, len(closes) - origin) + 1)
            actual, last = closes[origin - 1 + steps], closes[origin - 1]
            for coverage in settings["coverage"]:
                label = f"{round(coverage * 100)}"
                radius = function.radius([float(coverage)])[0][steps - 1]
                for model, (lower, upper) in {
                    "network": (last * np.exp(-radius), last * np.exp(radius)),
                    EWMA_WALK: tuple(b[steps - 1] for b in bounds(last, ewma[position], coverage)),
                }.items():
                    scores = interval_score(actual, lower, upper, coverage)
                    hits = (lower <= actual) & (actual <= upper)
                    rows += [
                        {"model": model, "step": int(s), "coverage": label, "score": sc, "hit": h}
                        for s, sc, h in zip(steps, scores, hits, strict=True)
                    ]
    return pd.DataFrame(rows)


def usd_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The candles' prices as a model table's ``*_usd`` columns (what the forecaster reads)."""
    return raw[["open", "high", "low", "close"]].astype("float64").add_suffix("_usd")


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Mean interval score and coverage overall and per step, per coverage level."""
    result: dict[str, Any] = {}
    for label, group in frame.groupby("coverage"):
        per_step = group.groupby("step").agg(score=("score", "mean"), hit=("hit", "mean"))
        result[label] = {
            "interval_score": _significant(group["score"].mean()),
            "coverage": round(float(group["hit"].mean()), 4),
            "interval_score_by_step": [_significant(v) for v in per_step["score"]],
            "coverage_by_step": [round(float(v), 4) for v in per_step["hit"]],
        }
    return result


def _significant(value: float) -> float:
    """Six significant digits: pair prices range from 1e-5 (SHIB) to 1e5 USDT (BTC)."""
    return float(f"{float(value):.6g}")


def scored(
    candles: pd.DataFrame,
    origins: range,
    settings: dict[str, Any],
    refit_every: int,
    horizon: int,
) -> dict[str, dict[str, Any]]:
    """``summary`` of the zero-weight forecaster and of the EWMA random walk."""
    frame = walk(candles, origins, settings, refit_every, horizon)
    return {model: summary(group) for model, group in frame.groupby("model")}
