"""A served request's candles <-> silver-shaped candles, validated and gap-filled exactly
as the data_engineering pipeline does, with the work per request bounded before it is
done and errors worded for the client ("request row 3: ...")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..candles import (
    EARLIEST_MS,
    LATEST_MS,
    broken_rules,
    fill_gaps,
    interval_milliseconds,
    off_grid,
)
from ..model.forecaster import CANDLE_INPUT_COLUMNS

PAYLOAD_COLUMNS = CANDLE_INPUT_COLUMNS  # open_time in ms since the epoch, as Binance sends it


@dataclass(frozen=True)
class RequestLimits:
    """What one request may cost: candles kept (the latest), missing candles in a row."""

    max_candles: int
    max_gap_candles: int


def _request_error(rows: pd.Index, problem: str) -> ValueError:
    """An error naming the request's row(s) (0-based, in the order sent)."""
    listed = ", ".join(str(int(r)) for r in rows[:3]) + (" ..." if len(rows) > 3 else "")
    return ValueError(f"request row{'s' if len(rows) > 1 else ''} {listed}: {problem}")


def _numeric_rows(payload: pd.DataFrame) -> pd.DataFrame:
    """The request's candle columns as numbers, every one present and finite."""
    missing = [c for c in PAYLOAD_COLUMNS if c not in payload.columns]
    if missing:
        raise ValueError(
            f"The candles lack the column(s) {missing}; send Binance kline columns "
            f"{list(PAYLOAD_COLUMNS)} (open_time in ms), one row per candle."
        )
    rows = payload[list(PAYLOAD_COLUMNS)]
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in rows.dtypes):
        rows = rows.apply(pd.to_numeric, errors="coerce")  # text from a CSV-minded client
    rows.index = pd.RangeIndex(len(rows))
    for column in PAYLOAD_COLUMNS:
        bad = ~np.isfinite(rows[column].to_numpy(dtype="float64"))
        if bad.any():
            raise _request_error(rows.index[bad], f"{column} is missing, not a number or infinite.")
    prices = [c for c in PAYLOAD_COLUMNS if c != "open_time"]
    rows[prices] = rows[prices].astype("float64")
    times = rows["open_time"]
    outside = ~times.between(EARLIEST_MS, LATEST_MS)
    if outside.any():
        raise _request_error(
            rows.index[outside.to_numpy()],
            f"open_time {times[outside].iloc[0]:.0f} is not a time between 2010 and 2100 in "
            "milliseconds since 1970-01-01 UTC (Binance's kline open time).",
        )
    return rows


def _latest_rows(rows: pd.DataFrame, interval: str, limits: RequestLimits) -> pd.DataFrame:
    """The latest ``max_candles`` rows by open time, refused when they hold a gap of more
    than ``max_gap_candles`` missing candles (its filling would be the work of many)."""
    rows = rows.sort_values("open_time", kind="stable").tail(limits.max_candles)
    step_ms = interval_milliseconds(interval) or 31 * 86_400_000
    missing = (rows["open_time"].diff() // step_ms - 1).fillna(0)
    too_long = missing > limits.max_gap_candles
    if too_long.any():
        after = rows.index[too_long.to_numpy()][0]
        before = rows.index[int(np.argmax(too_long.to_numpy())) - 1]
        raise _request_error(
            pd.Index([before, after]),
            f"{int(missing[after])} {interval} candles are missing between them; at most "
            f"{limits.max_gap_candles} missing in a row are filled. Send the candles in "
            "between, or only the candles after the gap.",
        )
    return rows


def candles_from_payload(
    payload: pd.DataFrame, interval: str, limits: RequestLimits
) -> pd.DataFrame:
    """Silver-shaped candles from a request's rows (Binance kline columns): the latest
    ``limits.max_candles``, validated and gap-filled as the data_engineering pipeline does."""
    rows = _latest_rows(_numeric_rows(payload), interval, limits)
    step_ms = interval_milliseconds(interval) or 1
    rows["close_time"] = rows["open_time"].astype("int64") + step_ms - 1
    repeated = rows["open_time"].duplicated(keep=False)
    if repeated.any():
        twins = rows[repeated]
        if not twins.duplicated(subset=list(PAYLOAD_COLUMNS), keep=False).all():
            raise _request_error(twins.index, "different candles with the same open_time.")
        rows = rows[~rows["open_time"].duplicated()]  # exact repeats: keep one
    candles = rows.reset_index(names="request_row")
    for column in ("open_time", "close_time"):
        candles[column] = pd.to_datetime(candles[column].astype("int64"), unit="ms", utc=True)
    off = off_grid(candles["open_time"], interval)
    if off.any():
        raise _request_error(
            pd.Index(candles.loc[off, "request_row"]),
            f"open_time {candles.loc[off, 'open_time'].iloc[0]} is not when a {interval} "
            f"candle opens (UTC); this model forecasts {interval} candles.",
        )
    broken = broken_rules(candles)
    if broken.to_numpy().any():
        rule = broken.columns[broken.any().to_numpy()][0]
        raise _request_error(
            pd.Index(candles.loc[broken[rule], "request_row"]), f"breaks the rule {rule}."
        )
    return fill_gaps(candles.drop(columns="request_row"), interval, "ffill")


def payload_from_candles(candles: pd.DataFrame) -> pd.DataFrame:
    """Candles as a client sends them: Binance kline columns, open_time in ms."""
    payload = candles[list(PAYLOAD_COLUMNS)].copy()
    epoch = pd.Timestamp(0, tz="UTC")
    payload["open_time"] = ((payload["open_time"] - epoch) // pd.Timedelta(milliseconds=1)).astype(
        "int64"
    )
    return payload
