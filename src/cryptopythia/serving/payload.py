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
    close_times_ms,
    fill_gaps,
    off_grid,
    steps_between,
)
from ..model.forecaster import CANDLE_INPUT_COLUMNS

PAYLOAD_COLUMNS = CANDLE_INPUT_COLUMNS  # open_time in ms since the epoch, as Binance sends it
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class RequestLimits:
    """What one request may cost and must hold: rows sent (refused beyond, before any is
    read), candles needed and kept (the latest), missing candles in a row."""

    max_request_rows: int
    min_candles: int
    max_candles: int
    max_gap_candles: int


def _listed(rows: pd.Index) -> str:
    listed = ", ".join(str(int(r)) for r in rows[:3]) + (" ..." if len(rows) > 3 else "")
    return f"request row{'s' if len(rows) > 1 else ''} {listed}"


def _request_error(rows: pd.Index, problem: str) -> ValueError:
    """An error naming the request's row(s) (0-based, in the order sent)."""
    return ValueError(f"{_listed(rows)}: {problem}")


def check_request_size(payload: pd.DataFrame, limits: RequestLimits) -> None:
    """Refuse a request of more than ``max_request_rows`` rows before any row is read."""
    if len(payload) > limits.max_request_rows:
        raise ValueError(
            f"The request sends {len(payload)} rows; at most {limits.max_request_rows} rows "
            f"are read per request (and the latest {limits.max_candles} candles used): send "
            "the latest candles only."
        )


def _candle_columns(payload: pd.DataFrame) -> pd.DataFrame:
    """The request's candle columns, each present exactly once."""
    twice = sorted({str(c) for c in payload.columns[payload.columns.duplicated()]})
    twice = [c for c in PAYLOAD_COLUMNS if c in twice]
    if twice:
        raise ValueError(
            f"the column(s) {twice} are sent more than once; send each of the columns "
            f"{list(PAYLOAD_COLUMNS)} once."
        )
    missing = [c for c in PAYLOAD_COLUMNS if c not in payload.columns]
    if missing:
        raise ValueError(
            f"The candles lack the column(s) {missing}; send Binance kline columns "
            f"{list(PAYLOAD_COLUMNS)} (open_time in ms), one row per candle."
        )
    return payload[list(PAYLOAD_COLUMNS)]


def _numeric_rows(payload: pd.DataFrame) -> pd.DataFrame:
    """The request's candle columns as numbers, every one present and finite, open times
    whole milliseconds between 2010 and 2100."""
    rows = _candle_columns(payload)
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
    fractional = (times.to_numpy(dtype="float64") % 1) != 0
    if fractional.any():
        raise _request_error(
            rows.index[fractional],
            f"open_time {times[fractional].iloc[0]} is not a whole number of milliseconds "
            "(Binance's kline open time is an integer).",
        )
    rows["open_time"] = times.astype("int64")
    return rows


def _without_repeats(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """The rows without exact repeats (a candle sent again: kept once), and the repeated
    rows; two different candles with one open_time are refused."""
    repeated = rows["open_time"].duplicated(keep=False)
    if not repeated.any():
        return rows, pd.Index([])
    twins = rows[repeated]
    if not twins.duplicated(subset=list(PAYLOAD_COLUMNS), keep=False).all():
        raise _request_error(twins.index, "different candles with the same open_time.")
    again = rows["open_time"].duplicated()
    return rows[~again], rows.index[again.to_numpy()]


def _latest_rows(rows: pd.DataFrame, interval: str, limits: RequestLimits) -> pd.DataFrame:
    """The latest ``max_candles`` rows by open time, refused when they hold a gap of more
    than ``max_gap_candles`` missing candles (its filling would be the work of many)."""
    rows = rows.sort_values("open_time", kind="stable").tail(limits.max_candles)
    missing = (steps_between(rows["open_time"], interval) - 1).fillna(0)
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


def _check_enough(candles: pd.DataFrame, repeated: pd.Index, limits: RequestLimits) -> None:
    """At least ``min_candles`` (gap-filled) candles; when too few, say whether rows sent
    again are why."""
    if len(candles) >= limits.min_candles:
        return
    enough = (
        f"send at least {limits.min_candles} (the latest ones), so that the indicators' "
        "averages have converged and the forecast equals the one made from the full history."
    )
    if len(repeated):
        raise _request_error(
            repeated,
            f"repeat candles already sent (same open_time and values; {len(repeated)} rows "
            f"in all), and each candle counts once: {len(candles)} distinct candles are too "
            f"few; {enough}",
        )
    raise ValueError(f"{len(candles)} candles are too few: {enough}")


def _check_movement(candles: pd.DataFrame) -> None:
    """Refuse candles with no price movement, from which the volatility, and so the width
    of every interval, would be 0: every candle flat (open = high = low = close), or a
    close that never changes."""
    prices = candles[list(PRICE_COLUMNS)].to_numpy()
    n = len(candles)
    if (prices == prices[:, :1]).all():
        raise ValueError(
            f"the latest {n} candles are flat (open = high = low = close in every one): "
            "with no price movement the volatility is 0 and the intervals would have zero "
            "width. Send traded candles."
        )
    close = candles["close"].to_numpy()
    if (close == close[0]).all():
        raise ValueError(
            f"the close is {close[0]:g} in every one of the latest {n} candles: with no "
            "price movement the volatility is 0 and the intervals would have zero width. "
            "Send traded candles."
        )


def candles_from_payload(
    payload: pd.DataFrame, interval: str, limits: RequestLimits
) -> pd.DataFrame:
    """Silver-shaped candles from a request's rows (Binance kline columns): the latest
    ``limits.max_candles``, validated and gap-filled as the data_engineering pipeline does;
    at least ``limits.min_candles``, the latest of which show price movement."""
    check_request_size(payload, limits)
    rows, repeated = _without_repeats(_numeric_rows(payload))
    if rows.empty:
        raise ValueError(
            f"The request holds no candle; send the latest {limits.min_candles} or more "
            f"(Binance kline columns {list(PAYLOAD_COLUMNS)}, open_time in ms)."
        )
    rows = _latest_rows(rows, interval, limits)
    rows["close_time"] = close_times_ms(rows["open_time"], interval)
    candles = rows.reset_index(names="request_row")
    for column in ("open_time", "close_time"):
        candles[column] = pd.to_datetime(candles[column], unit="ms", utc=True)
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
    candles = fill_gaps(candles.drop(columns="request_row"), interval, "ffill")
    _check_enough(candles, repeated, limits)
    _check_movement(candles.iloc[-limits.min_candles :])
    return candles


def payload_from_candles(candles: pd.DataFrame) -> pd.DataFrame:
    """Candles as a client sends them: Binance kline columns, open_time in ms."""
    payload = candles[list(PAYLOAD_COLUMNS)].copy()
    epoch = pd.Timestamp(0, tz="UTC")
    payload["open_time"] = ((payload["open_time"] - epoch) // pd.Timedelta(milliseconds=1)).astype(
        "int64"
    )
    return payload
