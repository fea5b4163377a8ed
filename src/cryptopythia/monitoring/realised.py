"""The ledger's forecasts beside what happened: the realised close of each target candle,
the close at the origin (naive persistence) and the EWMA random walk's bounds from the
same origin, for the forecasts whose target candle has closed."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..backtest.volatility import bounds, random_walk_sigmas

logger = logging.getLogger(__name__)

# A forecast is scored once per model version: the same version forecast under two
# aliases (staging, champion) made the same numbers.
FORECAST_KEY = ["model_name", "model_version", "symbol", "interval", "origin", "step"]


def coverages_of(frame: pd.DataFrame) -> list[str]:
    """The interval coverages ("80", "95") the rows carry bounds for."""
    return sorted(
        (c.removeprefix("lower_") for c in frame.columns if c.startswith("lower_")), key=float
    )


def pair_forecasts(ledger: pd.DataFrame, symbol: str, interval: str) -> pd.DataFrame:
    """The ledger rows of one pair, once per model version, origin and step."""
    rows = ledger[(ledger["symbol"] == symbol) & (ledger["interval"] == interval)]
    rows = rows.sort_values(["recorded_at", "model_alias"]).drop_duplicates(FORECAST_KEY)
    return rows.sort_values(["model_name", "model_version", "origin", "step"], ignore_index=True)


def realised_forecasts(
    forecasts: pd.DataFrame, silver: pd.DataFrame, now: pd.Timestamp, intervals: dict[str, Any]
) -> pd.DataFrame:
    """The forecasts whose target candle is in silver, closed before ``now`` and neither it
    nor the origin a filled gap (a filled close is not a price), with ``actual``,
    ``last_close`` and the random walk's ``rw_lower_*`` / ``rw_upper_*``; the others are
    left out and counted in the log."""
    candles = silver.set_index("open_time")
    filled = candles.index[candles["was_filled"].astype(bool)]
    real = candles[~candles["was_filled"].astype(bool)]
    closed = real[real["close_time"] < now]
    known = forecasts["target_time"].isin(closed.index) & forecasts["origin"].isin(real.index)
    gaps = forecasts["target_time"].isin(filled) | forecasts["origin"].isin(filled)
    pending = ~forecasts["target_time"].isin(closed.index) & ~gaps
    if (~known).any():
        logger.info(
            "Scoring %d of %d ledger forecasts: %d wait for their candle to close, %d have "
            "a filled gap in silver as origin or target (never scored), %d others have "
            "their origin outside silver.",
            int(known.sum()),
            len(forecasts),
            int(pending.sum()),
            int(gaps.sum()),
            int((~known & ~pending & ~gaps).sum()),
        )
    scored = forecasts[known].copy()
    scored["actual"] = closed.loc[scored["target_time"], "close"].to_numpy()
    scored["last_close"] = candles.loc[scored["origin"], "close"].to_numpy()
    return _with_random_walk(scored, silver, intervals)


def _with_random_walk(
    scored: pd.DataFrame, silver: pd.DataFrame, intervals: dict[str, Any]
) -> pd.DataFrame:
    """Bounds of the EWMA random walk made at each row's origin, from the closes up to it."""
    if scored.empty:
        for coverage in coverages_of(scored):
            scored[f"rw_lower_{coverage}"] = scored[f"rw_upper_{coverage}"] = np.nan
        return scored
    position = pd.Series(np.arange(len(silver)), index=silver["open_time"])
    first_row = position.loc[scored["origin"]].to_numpy() + 1  # each row's first forecast row
    first_rows = np.unique(first_row)
    closes = silver["close"].to_numpy(dtype="float64")
    horizon = int(scored["step"].max())
    sigmas = random_walk_sigmas(closes, first_rows.tolist(), horizon, intervals, "ewma", 0)
    sigma = sigmas[np.searchsorted(first_rows, first_row), scored["step"].to_numpy() - 1]
    for coverage in coverages_of(scored):
        lower, upper = bounds(scored["last_close"].to_numpy(), sigma, int(coverage) / 100)
        scored[f"rw_lower_{coverage}"], scored[f"rw_upper_{coverage}"] = lower, upper
    return scored
