"""Nodes of the data_engineering pipeline: bronze (as fetched) and silver (clean)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import numpy as np
import pandas as pd
from binance.client import Client

from .binance_fetch import RetryPolicy, fetch_closed_klines, server_time_ms
from .kline_dump import read_kline_dump
from .klines import (
    BRONZE_COLUMNS,
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    check_interval,
    interval_frequency,
    interval_milliseconds,
)

logger = logging.getLogger(__name__)

SOURCES = ("binance", "dump")
GAP_POLICIES = ("ffill", "keep", "raise")
INVALID_ROW_POLICIES = ("raise", "drop")


def _check_choice(value: str, choices: tuple[str, ...], parameter: str) -> str:
    if value not in choices:
        raise ValueError(
            f"Unknown {parameter}={value!r}; choose one of: {', '.join(choices)}."
        )
    return value


def _start_milliseconds(start_date: Any) -> int:
    """``data_engineering.start_date`` as UTC epoch ms; a clear error if it is no date."""
    try:
        start = pd.Timestamp(str(start_date).strip()) if start_date is not None else pd.NaT
    except ValueError:
        start = pd.NaT
    if pd.isna(start):
        raise ValueError(
            f"data_engineering.start_date={start_date!r} is not a date; use YYYY-MM-DD, "
            "e.g. --params data_engineering.start_date=2017-08-17 (BTCUSDT's listing)."
        )
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    return round(start.timestamp() * 1000)


def _check_start_is_past(start_ms: int, start_date: Any, now_ms: int) -> None:
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
    numeric = table.apply(pd.to_numeric, errors="coerce")
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
        numeric[column] = numeric[column].astype("int64")
    return numeric


def _check_bronze_interval(
    bronze: pd.DataFrame, interval: str, what: str = "The stored bronze table"
) -> None:
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


def _check_bronze(
    previous: pd.DataFrame, new: pd.DataFrame, source: str, invalid_rows: str
) -> None:
    """Silver's own checks on stored + new rows, so bad rows never reach bronze."""
    combined = pd.concat([f for f in (previous, new) if not f.empty], ignore_index=True)
    combined = combined.sort_values("open_time", kind="stable", ignore_index=True)
    try:
        validate_candles(type_candles(combined), invalid_rows)
    except ValueError as error:
        raise ValueError(
            f"Not updating data/01_raw/bronze.csv ({len(previous)} stored + {len(new)} new "
            f"rows from source={source!r}); it was left as it was. {error}"
        ) from error


def _dump_bronze(params: dict[str, Any], start_ms: int) -> pd.DataFrame:
    """The dump's candles with open_time >= ``start_ms``, as bronze rows."""
    if not params.get("dump_path"):
        raise ValueError(
            "data_engineering.source is 'dump' but data_engineering.dump_path is not "
            "set; pass --params data_engineering.dump_path=<file or folder>."
        )
    _check_start_is_past(start_ms, params["start_date"], int(time.time() * 1000))
    dump = klines_to_bronze(
        read_kline_dump(params["dump_path"], str(params["symbol"]), params["interval"])
    )
    kept = dump[dump["open_time"] >= start_ms].reset_index(drop=True)
    if len(kept) < len(dump):
        logger.info(
            "Dump: skipping %d candle(s) before data_engineering.start_date=%s.",
            len(dump) - len(kept),
            params["start_date"],
        )
    return kept


def _binance_bronze(
    previous: pd.DataFrame, client: Client, params: dict[str, Any], start_ms: int
) -> pd.DataFrame:
    """New closed candles from Binance after the stored ones, judged by Binance's clock."""
    symbol, interval = str(params["symbol"]), params["interval"]
    fetch_params = params.get("fetch", {})
    policy = RetryPolicy.from_params(fetch_params)
    now_ms = server_time_ms(client, policy)
    _check_start_is_past(start_ms, params["start_date"], now_ms)
    if not previous.empty:
        # The next candle opens one interval after the last stored one.
        step_ms = interval_milliseconds(interval) or 1
        start_ms = max(start_ms, int(previous["open_time"].max()) + step_ms)
    klines = fetch_closed_klines(
        client,
        symbol=symbol,
        interval=interval,
        start_ms=start_ms,
        now_ms=now_ms,
        page_limit=int(fetch_params.get("page_limit", 1000)),
        policy=policy,
    )
    return klines_to_bronze(klines)


def update_bronze(
    bronze_previous: pd.DataFrame, binance_client: Client, params: dict[str, Any]
) -> pd.DataFrame:
    """Bronze brought up to date with new closed candles from Binance or the kline dump.

    Stored + new rows must pass silver's checks first, so a bad row is never saved.
    """
    source = _check_choice(params["source"], SOURCES, "data_engineering.source")
    interval = check_interval(params["interval"])
    invalid_rows = _check_choice(
        params.get("invalid_rows", "raise"), INVALID_ROW_POLICIES, "data_engineering.invalid_rows"
    )
    symbol = str(params["symbol"])
    if not re.fullmatch(r"[A-Z0-9]{2,20}", symbol):
        raise ValueError(
            f"data_engineering.symbol={symbol!r} is not a Binance symbol; use the "
            "upper-case pair without separator, e.g. BTCUSDT."
        )
    start_ms = _start_milliseconds(params["start_date"])
    previous = bronze_previous
    if not previous.empty:
        previous = klines_to_bronze(previous)
        _check_bronze_interval(previous, interval)
    if source == "dump":
        new = _dump_bronze(params, start_ms)
        _check_bronze_interval(new, interval, f"The kline dump {params['dump_path']}")
    else:
        new = _binance_bronze(previous, binance_client, params, start_ms)
    if previous.empty and new.empty:
        where = "Binance returned" if source == "binance" else "The dump holds"
        raise ValueError(
            f"{where} no closed {symbol} {interval} candle since {params['start_date']}: "
            "check data_engineering.symbol, start_date and dump_path."
        )
    _check_bronze(previous, new, source, invalid_rows)
    bronze = merge_bronze(previous, new)
    _check_bronze_interval(bronze, interval, "Stored bronze with the new candles")
    logger.info(
        "Bronze (%s): %d stored + %d new candles = %d.",
        source,
        len(previous),
        len(new),
        len(bronze),
    )
    return bronze


def type_candles(bronze: pd.DataFrame) -> pd.DataFrame:
    """Typed candles: UTC open/close times, floats, sorted, exact duplicates removed."""
    missing = [column for column in REQUIRED_COLUMNS if column not in bronze.columns]
    if missing:
        raise ValueError(
            f"bronze lacks the column(s) {', '.join(missing)}; a kline table needs "
            f"{', '.join(REQUIRED_COLUMNS)}. Re-create data/01_raw/bronze.csv with "
            "`kedro run --pipeline data_engineering`."
        )
    if bronze.empty:
        raise ValueError("bronze holds no candle; fetch some first.")
    optional = [c for c in OPTIONAL_COLUMNS if c in bronze.columns and bronze[c].notna().any()]
    candles = bronze[list(REQUIRED_COLUMNS) + optional].apply(pd.to_numeric, errors="coerce")
    for column in ("open_time", "close_time"):
        candles[column] = pd.to_datetime(candles[column], unit="ms", utc=True)
    if not candles["open_time"].is_monotonic_increasing:
        logger.warning("bronze was not sorted by open_time; sorting it.")
        candles = candles.sort_values("open_time", kind="stable", ignore_index=True)
    duplicated = candles["open_time"].duplicated(keep=False)
    if duplicated.any():
        # Same candle = same REQUIRED values: a 7-column dump row and an 11-column API
        # row of one candle are duplicates, not a conflict.
        required = list(REQUIRED_COLUMNS)
        exact = candles.duplicated(subset=required, keep="first")
        conflicting = duplicated & ~candles.duplicated(subset=required, keep=False)
        if conflicting.any():
            times = candles.loc[conflicting, "open_time"].drop_duplicates().head(5)
            raise ValueError(
                f"bronze has {int(conflicting.sum())} rows sharing an open_time with "
                f"different values (first: {', '.join(map(str, times))}); which is right "
                "is unknown. Delete data/01_raw/bronze.csv and fetch again."
            )
        logger.warning("Dropping %d exact duplicate candle(s).", int(exact.sum()))
        candles = candles[~exact].reset_index(drop=True)
    return candles


def validate_candles(candles: pd.DataFrame, invalid_rows: str) -> pd.DataFrame:
    """Candles that obey the price rules; breaking rows raise or are dropped (reported)."""
    _check_choice(invalid_rows, INVALID_ROW_POLICIES, "data_engineering.invalid_rows")
    prices = candles[list(PRICE_COLUMNS)]
    rules = {
        "a price or volume is missing": candles[list(REQUIRED_COLUMNS)].isna().any(axis=1),
        "prices > 0": (prices <= 0).any(axis=1),
        "high >= max(open, close)": candles["high"] < candles[["open", "close"]].max(axis=1),
        "low <= min(open, close)": candles["low"] > candles[["open", "close"]].min(axis=1),
        "volume >= 0": candles["volume"] < 0,
    }
    broken = pd.DataFrame(rules)
    bad = broken.any(axis=1)
    if not bad.any():
        return candles
    report = "; ".join(
        f"{rule}: {int(broken[rule].sum())} row(s), first at "
        f"{candles.loc[broken[rule], 'open_time'].head(3).dt.strftime('%Y-%m-%d %H:%M').tolist()}"
        for rule in rules
        if broken[rule].any()
    )
    if invalid_rows == "raise":
        raise ValueError(
            f"{int(bad.sum())} invalid candle(s) in bronze. {report}. Fix the source, or "
            "drop them with --params data_engineering.invalid_rows=drop."
        )
    if bad.all():
        raise ValueError(
            f"All {len(candles)} candle(s) in bronze are invalid ({report}); "
            "data_engineering.invalid_rows=drop would leave nothing. Fix the source "
            "(data_engineering.dump_path or start_date)."
        )
    logger.warning("Dropping %d invalid candle(s). %s", int(bad.sum()), report)
    return candles[~bad].reset_index(drop=True)


def fill_gaps(candles: pd.DataFrame, interval: str, gap_policy: str) -> pd.DataFrame:
    """Silver: missing candles made explicit by ``gap_policy``, flagged in ``was_filled``."""
    _check_choice(gap_policy, GAP_POLICIES, "data_engineering.gap_policy")
    frequency = interval_frequency(interval)
    if candles.empty:
        raise ValueError(
            "No candle left to build silver from: every row was dropped (e.g. by "
            "data_engineering.invalid_rows=drop). Fix the source or its start_date."
        )
    grid = pd.date_range(candles["open_time"].iloc[0], candles["open_time"].iloc[-1], freq=frequency)
    off_grid = ~candles["open_time"].isin(grid)
    if off_grid.any():
        raise ValueError(
            f"{int(off_grid.sum())} candle(s) do not fall on the {interval} grid (first: "
            f"{candles.loc[off_grid, 'open_time'].iloc[0]}); is "
            f"data_engineering.interval={interval!r} the interval of the data?"
        )
    missing = grid.difference(pd.DatetimeIndex(candles["open_time"]))
    silver = candles.assign(was_filled=False)
    if missing.empty:
        logger.info("Silver: %d candles, no gap.", len(silver))
        return silver
    logger.warning(
        "%d missing %s candle(s) in %d gap(s), first %s, last %s; policy: %s.",
        len(missing),
        interval,
        int((np.diff(grid.get_indexer(missing)) != 1).sum()) + 1,
        missing[0],
        missing[-1],
        gap_policy,
    )
    if gap_policy == "raise":
        raise ValueError(
            f"{len(missing)} missing {interval} candle(s), first at {missing[0]}. Choose "
            "data_engineering.gap_policy=ffill (fill and flag) or keep."
        )
    if gap_policy == "keep":
        return silver
    silver = silver.set_index("open_time").reindex(grid)
    silver.index.name = "open_time"
    filled = silver["was_filled"].isna()
    silver["close"] = silver["close"].ffill()
    for column in ("open", "high", "low"):
        silver[column] = silver[column].fillna(silver["close"])
    volume_like = ["volume"] + [c for c in OPTIONAL_COLUMNS if c in silver.columns]
    silver[volume_like] = silver[volume_like].fillna(0.0)
    silver["was_filled"] = filled
    silver = silver.reset_index()
    next_open = silver["open_time"] + frequency
    silver["close_time"] = silver["close_time"].fillna(next_open - pd.Timedelta(milliseconds=1))
    return silver
