"""Binance kline layout and interval arithmetic shared by the fetcher, the dump reader
and the silver layer."""

from __future__ import annotations

import pandas as pd

# Binance's kline columns, in the order of the REST API and the public dumps.
KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_asset_volume",
    "number_of_trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
)
# bronze keeps every column but Binance's "ignore".
BRONZE_COLUMNS = KLINE_COLUMNS[:11]
# The columns every source provides (the snapshot in data/01_raw/snapshot has only these).
REQUIRED_COLUMNS = KLINE_COLUMNS[:7]
OPTIONAL_COLUMNS = KLINE_COLUMNS[7:11]
PRICE_COLUMNS = ("open", "high", "low", "close")

# The epoch-millisecond range a candle's open or close time may take (Binance opened in
# 2017): outside it, a number is no kline time (seconds, microseconds, an overflow).
EARLIEST_MS = int(pd.Timestamp("2010-01-01", tz="UTC").timestamp() * 1000)
LATEST_MS = int(pd.Timestamp("2100-01-01", tz="UTC").timestamp() * 1000)

# Every interval Binance's kline endpoint accepts, with its fixed length (None: a
# calendar month, whose length varies).
INTERVALS: dict[str, pd.Timedelta | None] = {
    "1s": pd.Timedelta(seconds=1),
    "1m": pd.Timedelta(minutes=1),
    "3m": pd.Timedelta(minutes=3),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
    "2h": pd.Timedelta(hours=2),
    "4h": pd.Timedelta(hours=4),
    "6h": pd.Timedelta(hours=6),
    "8h": pd.Timedelta(hours=8),
    "12h": pd.Timedelta(hours=12),
    "1d": pd.Timedelta(days=1),
    "3d": pd.Timedelta(days=3),
    "1w": pd.Timedelta(weeks=1),
    "1M": None,
}


def check_interval(interval: str) -> str:
    """Return ``interval`` if Binance knows it, else raise a ValueError listing them."""
    if interval not in INTERVALS:
        raise ValueError(
            f"Unknown candle interval {interval!r} (parameter data_engineering.interval). "
            f"Binance accepts: {', '.join(INTERVALS)}."
        )
    return interval


def close_times_ms(open_ms: pd.Series, interval: str) -> pd.Series:
    """Binance's close_time of candles opening at ``open_ms`` (ms since the epoch): the next
    candle's open - 1 ms; for 1M the next month's first day, months differing in length."""
    step_ms = interval_milliseconds(interval)
    if step_ms is not None:
        return open_ms + step_ms - 1
    opens = pd.to_datetime(open_ms, unit="ms", utc=True)
    next_month = opens + pd.offsets.MonthBegin(1)
    return (next_month - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1) - 1


def steps_between(open_ms: pd.Series, interval: str) -> pd.Series:
    """Intervals from each candle's open to the next one's (1 for neighbours; NaN first);
    calendar months for 1M."""
    step_ms = interval_milliseconds(interval)
    if step_ms is not None:
        return open_ms.diff() // step_ms
    opens = pd.to_datetime(open_ms, unit="ms", utc=True)
    months = pd.Series(opens.dt.year * 12 + opens.dt.month, index=open_ms.index)
    return months.diff()


def interval_frequency(interval: str) -> pd.Timedelta | pd.DateOffset:
    """The step between two candles' open times, as a pandas frequency."""
    length = INTERVALS[check_interval(interval)]
    return pd.offsets.MonthBegin(1) if length is None else length


def interval_milliseconds(interval: str) -> int | None:
    """The interval's length in ms, or None for calendar months."""
    length = INTERVALS[check_interval(interval)]
    return None if length is None else int(length / pd.Timedelta(milliseconds=1))


def interval_of(open_time: pd.Series) -> str:
    """The Binance interval of a table's candles, from the median step of its open times."""
    if len(open_time) < 2:
        raise ValueError("At least two candles are needed to tell their interval.")
    step = pd.Series(open_time).diff().dropna().median()
    for name, length in INTERVALS.items():
        if length is not None and step == length:
            return name
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return "1M"
    raise ValueError(f"Candles {step} apart match no Binance interval ({', '.join(INTERVALS)}).")


def utc_timestamp(value: object) -> pd.Timestamp:
    """``value`` (a date or an ISO timestamp; naive means UTC) as a UTC timestamp, NaT when
    it is no date: each caller names its own parameter in the error."""
    try:
        stamp = pd.Timestamp(str(value).strip()) if value is not None else pd.NaT
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if pd.isna(stamp):
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
