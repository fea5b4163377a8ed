"""Nodes of the replay pipeline: the registered model's daily forecasts over past days,
each made from the candles up to its origin only, as ledger rows."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ...model.forecaster import Forecaster, forecast
from ...monitoring.ledger import active_run_id, ledger_rows

logger = logging.getLogger(__name__)


def replay_origins(silver: pd.DataFrame, replay: dict[str, Any], min_candles: int) -> pd.Series:
    """The open times of the candles in [replay.start, replay.end], each with at least
    ``min_candles`` candles up to it."""
    start, end = (pd.Timestamp(str(replay[key])) for key in ("start", "end"))
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    end = end.tz_localize("UTC") if end.tzinfo is None else end
    times = silver["open_time"]
    # a filled gap is no closed candle: a daily run would not have run on it
    origins = times[(times >= start) & (times <= end) & ~silver["was_filled"].astype(bool)]
    if origins.empty:
        raise ValueError(
            f"replay.start={replay['start']} .. replay.end={replay['end']} holds no candle of "
            f"silver ({times.iloc[0]} .. {times.iloc[-1]}): pick dates inside it."
        )
    if origins.index[0] + 1 < min_candles:
        earliest = times.iloc[min_candles - 1]
        raise ValueError(
            f"replay.start={replay['start']} leaves fewer than the {min_candles} candles a "
            f"forecast needs before the first origin: start on {earliest.date()} or later."
        )
    return origins


def replay_forecasts(
    silver: pd.DataFrame,
    forecaster: Forecaster,
    info: dict[str, Any],
    inference: dict[str, Any],
    replay: dict[str, Any],
    data_engineering: dict[str, Any],
) -> pd.DataFrame:
    """What a daily ``forecast`` run would have written to the ledger at each origin:
    the next ``inference.default_steps`` candles from the candles up to it."""
    origins = replay_origins(silver, replay, forecaster.min_candles)
    steps, run_id, now = int(inference["default_steps"]), active_run_id(), pd.Timestamp.now("UTC")
    levels = [float(level) for level in inference.get("quantiles") or []]  # as inference's
    rows = []
    for position, origin in tqdm(origins.items(), total=len(origins), desc="replay"):
        table = forecast(silver.iloc[: position + 1], forecaster, steps, levels, scales=True)
        for key, value in info.items():
            table[key] = value
        rows.append(
            ledger_rows(
                table,
                origin,
                data_engineering["symbol"],
                data_engineering["interval"],
                run_id,
                now,
                made_by="replay",
            )
        )
    logger.info(
        "Replayed %d origins, %s -> %s, %d steps each.",
        len(origins),
        origins.iloc[0],
        origins.iloc[-1],
        steps,
    )
    return pd.concat(rows, ignore_index=True)
