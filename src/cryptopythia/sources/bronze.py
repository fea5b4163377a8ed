"""The bronze table: Binance klines as fetched (API pages or dump files), checked against
what is stored and merged with it; one symbol and interval since a start date."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from binance.client import Client

from ..candles import (
    BRONZE_COLUMNS,
    REQUIRED_COLUMNS,
    check_kline_times,
    check_on_grid,
    interval_milliseconds,
    type_candles,
    utc_timestamp,
    validate_candles,
)
from .binance import RetryPolicy, fetch_closed_klines, server_time_ms
from .dump import check_dump_names_symbol, read_kline_dump
from .dump_checks import closed_dump_candles, consistent_close_times, warn_price_jumps

logger = logging.getLogger(__name__)

SOURCES = ("binance", "dump")


@dataclass(frozen=True)
class BronzeQuery:
    """Which candles bronze holds, from checked ``data_engineering`` parameters."""

    source: str
    symbol: str
    interval: str
    start_date: Any  # as configured, for messages
    start_ms: int
    invalid_rows: str


def check_symbol(symbol: Any) -> str:
    """``symbol`` as a string if it looks like a Binance pair (BTCUSDT), else raise."""
    symbol = str(symbol)
    if not re.fullmatch(r"[A-Z0-9]{2,20}", symbol):
        raise ValueError(
            f"data_engineering.symbol={symbol!r} is not a Binance symbol; use the "
            "upper-case pair without separator, e.g. BTCUSDT."
        )
    return symbol


def start_milliseconds(start_date: Any) -> int:
    """``data_engineering.start_date`` as UTC epoch ms; a clear error if it is no date."""
    start = utc_timestamp(start_date)
    if pd.isna(start):
        raise ValueError(
            f"data_engineering.start_date={start_date!r} is not a date; use YYYY-MM-DD, "
            "e.g. --params data_engineering.start_date=2017-08-17 (BTCUSDT's listing)."
        )
    return round(start.timestamp() * 1000)


def check_start_is_past(start_ms: int, start_date: Any, now_ms: int) -> None:
    """Raise if ``start_date`` (``start_ms``) is not before ``now_ms``."""
    if start_ms >= now_ms:
        raise ValueError(
            f"data_engineering.start_date={start_date!r} is in the future; no candle "
            "exists yet. Use a past date, e.g. 2017-08-17 (BTCUSDT's listing)."
        )


def klines_to_bronze(klines: list[list[Any]] | pd.DataFrame) -> pd.DataFrame:
    """Binance klines (API rows or dump table) as the bronze table: 11 typed columns."""
    table = pd.DataFrame(klines)
    if not isinstance(klines, pd.DataFrame):
        table = table.iloc[:, : len(BRONZE_COLUMNS)]
        table.columns = list(BRONZE_COLUMNS[: table.shape[1]])
        null = table.isna().any(axis=1)  # an API row has every field
        if null.any():
            raise ValueError(
                f"Malformed klines: {int(null.sum())} row(s) with a null field, first "
                f"(row {int(null.to_numpy().argmax())}): {table[null].iloc[0].tolist()}."
            )
    table = table.reindex(columns=list(BRONZE_COLUMNS))
    typed = all(pd.api.types.is_numeric_dtype(dtype) for dtype in table.dtypes)
    # a dump's table is numeric already: no copy of it (a big dump's memory)
    numeric = table if typed else table.apply(pd.to_numeric, errors="coerce")
    bad = numeric[list(REQUIRED_COLUMNS)].isna().any(axis=1) & table[
        list(REQUIRED_COLUMNS)
    ].notna().all(axis=1)
    if bad.any():
        raise ValueError(
            f"Malformed klines: {int(bad.sum())} row(s) with a non-numeric field, e.g. "
            f"{table[bad].iloc[0].tolist()}."
        )
    no_time = numeric[["open_time", "close_time"]].isna().any(axis=1)
    if no_time.any():
        raise ValueError(
            f"{int(no_time.sum())} kline row(s) without open_time/close_time, first at row "
            f"{int(no_time.to_numpy().argmax())}: {table[no_time].iloc[0].tolist()}. Every "
            "candle needs both; if this is data/01_raw/bronze.csv, delete it and fetch again."
        )
    for column in ("open_time", "close_time"):
        check_kline_times(numeric[column], column, "Klines")
        numeric[column] = numeric[column].astype("int64")
    return numeric


def check_bronze_interval(bronze: pd.DataFrame, interval: str, what: str) -> None:
    """Raise if ``bronze``'s candles (described as ``what``) are not ``interval`` apart."""
    step_ms = interval_milliseconds(interval)
    if step_ms is None or len(bronze) < 2:
        return
    typical_step = int(np.median(np.diff(np.sort(bronze["open_time"].to_numpy()))))
    if typical_step != step_ms:
        raise ValueError(
            f"{what} holds candles {typical_step // 1000} s apart, but "
            f"data_engineering.interval={interval!r} asks for {step_ms // 1000} s. Keep one "
            "interval per bronze file: delete or move data/01_raw/bronze.csv, or run with "
            "the matching interval."
        )


def merge_bronze(bronze_previous: pd.DataFrame, new_bronze: pd.DataFrame) -> pd.DataFrame:
    """Stored bronze plus new candles: one row per open_time, sorted.

    Per column the newest non-empty value wins, so a 7-column dump row does not blank
    the extra columns of the same candle fetched from the API.
    """
    frames = [frame for frame in (bronze_previous, new_bronze) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=list(BRONZE_COLUMNS))
    merged = pd.concat(frames, ignore_index=True)
    if merged["open_time"].is_unique:
        return merged.sort_values("open_time", ignore_index=True)
    return merged.groupby("open_time", sort=True, as_index=False).last()[merged.columns]


def stored_bronze(bronze_previous: pd.DataFrame, symbol: str, interval: str) -> pd.DataFrame:
    """The stored bronze table, typed, if it holds ``symbol``'s candles ``interval`` apart
    (its ``attrs``, from bronze.csv.meta.json, name the pair and interval it holds)."""
    if bronze_previous.empty:
        return bronze_previous
    held = (bronze_previous.attrs.get("symbol"), bronze_previous.attrs.get("interval"))
    if held[0] is not None and held != (symbol, interval):
        raise ValueError(
            f"data/01_raw/bronze.csv holds {held[0]} {held[1]} candles, but the run asks for "
            f"data_engineering.symbol={symbol!r}, interval={interval!r}; one bronze holds one "
            "pair and interval. Move data/01_raw/bronze.csv (and bronze.csv.meta.json) away "
            "to start another pair, or run with the pair it holds."
        )
    previous = klines_to_bronze(bronze_previous)
    check_bronze_interval(previous, interval, "The stored bronze table")
    return previous


def dump_bronze(
    dump_path: str | None, query: BronzeQuery, names_symbol: bool, max_bytes: int
) -> pd.DataFrame:
    """The dump's closed candles with open_time >= the query's start, as bronze rows;
    ``names_symbol``: the dump's file name must name the query's symbol; ``max_bytes``:
    the most one dump file may unpack to (``data_engineering.dump_max_bytes``)."""
    if not dump_path:
        raise ValueError(
            "data_engineering.source is 'dump' but data_engineering.dump_path is not "
            "set; pass --params data_engineering.dump_path=<file or folder>."
        )
    if names_symbol and Path(dump_path).exists():
        check_dump_names_symbol(dump_path, query.symbol)
    now_ms = int(time.time() * 1000)
    check_start_is_past(query.start_ms, query.start_date, now_ms)
    klines = read_kline_dump(
        dump_path, query.symbol, query.interval, max_bytes=max_bytes, since_ms=query.start_ms
    )
    dump = closed_dump_candles(klines_to_bronze(klines), now_ms, query.invalid_rows, dump_path)
    check_bronze_interval(dump, query.interval, f"The kline dump {dump_path}")
    return consistent_close_times(dump, query.interval, query.invalid_rows, dump_path)


def binance_bronze(
    previous: pd.DataFrame,
    client: Client,
    query: BronzeQuery,
    policy: RetryPolicy,
    page_limit: int,
) -> pd.DataFrame:
    """New closed candles from Binance after the stored ones, judged by Binance's clock."""
    now_ms = server_time_ms(client, policy)
    check_start_is_past(query.start_ms, query.start_date, now_ms)
    start_ms = query.start_ms
    if not previous.empty:
        # The next candle opens one interval after the last stored one.
        step_ms = interval_milliseconds(query.interval) or 1
        start_ms = max(start_ms, int(previous["open_time"].max()) + step_ms)
    klines = fetch_closed_klines(
        client,
        symbol=query.symbol,
        interval=query.interval,
        start_ms=start_ms,
        now_ms=now_ms,
        page_limit=page_limit,
        policy=policy,
    )
    return klines_to_bronze(klines)


def _check_new_rows(previous: pd.DataFrame, new: pd.DataFrame, query: BronzeQuery) -> None:
    """Silver's own checks on stored + new rows, so bad rows never reach bronze."""
    combined = pd.concat([f for f in (previous, new) if not f.empty], ignore_index=True)
    # a candle fetched or read again is expected (a re-read dump): only conflicts matter
    combined = combined.drop_duplicates(subset=list(REQUIRED_COLUMNS), ignore_index=True)
    combined = combined.sort_values("open_time", kind="stable", ignore_index=True)
    try:
        check_on_grid(validate_candles(type_candles(combined), query.invalid_rows), query.interval)
    except ValueError as error:
        raise ValueError(
            f"Not updating data/01_raw/bronze.csv ({len(previous)} stored + {len(new)} new "
            f"rows from source={query.source!r}); it was left as it was. {error}"
        ) from error


def add_new_candles(previous: pd.DataFrame, new: pd.DataFrame, query: BronzeQuery) -> pd.DataFrame:
    """Stored + new bronze rows merged, once both pass silver's checks together."""
    if previous.empty and new.empty:
        where = "Binance returned" if query.source == "binance" else "The dump holds"
        raise ValueError(
            f"{where} no closed {query.symbol} {query.interval} candle since "
            f"{query.start_date}: check data_engineering.symbol, start_date and dump_path."
        )
    _check_new_rows(previous, new, query)
    bronze = merge_bronze(previous, new)
    warn_price_jumps(bronze, new)  # a new candle against the stored one before it too
    bronze.attrs = {"symbol": query.symbol, "interval": query.interval}  # the sidecar
    check_bronze_interval(bronze, query.interval, "Stored bronze with the new candles")
    logger.info(
        "Bronze (%s): %d stored + %d new candles = %d.",
        query.source,
        len(previous),
        len(new),
        len(bronze),
    )
    return bronze
