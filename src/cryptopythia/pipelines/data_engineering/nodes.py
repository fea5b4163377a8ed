"""Nodes of the data_engineering pipeline: bronze (as fetched) and silver (clean)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import numpy as np
import pandas as pd
from binance.client import Client

from .binance_fetch import RetryPolicy, fetch_closed_klines
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


def _start_milliseconds(start_date: str, now_ms: int) -> int:
    try:
        start = pd.Timestamp(start_date)
    except ValueError as error:
        raise ValueError(
            f"data_engineering.start_date={start_date!r} is not a date; use YYYY-MM-DD."
        ) from error
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    if start >= pd.Timestamp(now_ms, unit="ms", tz="UTC"):
        raise ValueError(
            f"data_engineering.start_date={start_date!r} is in the future; no candle "
            "exists yet. Use a past date, e.g. 2017-08-17 (BTCUSDT's listing)."
        )
    return int((start - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))


def klines_to_bronze(klines: list[list[Any]] | pd.DataFrame) -> pd.DataFrame:
    """Binance klines (API rows or dump table) as the bronze table: 11 typed columns."""
    table = pd.DataFrame(klines)
    if not isinstance(klines, pd.DataFrame):
        table = table.iloc[:, : len(BRONZE_COLUMNS)]
        table.columns = list(BRONZE_COLUMNS[: table.shape[1]])
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
    for column in ("open_time", "close_time"):
        numeric[column] = numeric[column].astype("int64")
    return numeric


def _check_bronze_interval(bronze: pd.DataFrame, interval: str) -> None:
    step_ms = interval_milliseconds(interval)
    if step_ms is None or len(bronze) < 2:
        return
    typical_step = int(np.median(np.diff(np.sort(bronze["open_time"].to_numpy()))))
    if typical_step != step_ms:
        raise ValueError(
            f"The stored bronze table holds candles {typical_step // 1000} s apart, but "
            f"data_engineering.interval={interval!r} asks for {step_ms // 1000} s. Keep one "
            "interval per bronze file: delete or move data/01_raw/bronze.csv, or run with "
            "the matching interval."
        )


def merge_bronze(bronze_previous: pd.DataFrame, new_bronze: pd.DataFrame) -> pd.DataFrame:
    """Stored bronze plus new candles: one row per open_time (newest wins), sorted."""
    merged = pd.concat(
        [frame for frame in (bronze_previous, new_bronze) if not frame.empty],
        ignore_index=True,
    )
    if merged.empty:
        return pd.DataFrame(columns=list(BRONZE_COLUMNS))
    merged = merged.drop_duplicates(subset="open_time", keep="last")
    return merged.sort_values("open_time", ignore_index=True)


def update_bronze(
    bronze_previous: pd.DataFrame, binance_client: Client, params: dict[str, Any]
) -> pd.DataFrame:
    """Bronze brought up to date: new closed candles from Binance, or the kline dump."""
    source = _check_choice(params["source"], SOURCES, "data_engineering.source")
    interval = check_interval(params["interval"])
    if source == "dump":
        if not params.get("dump_path"):
            raise ValueError(
                "data_engineering.source is 'dump' but data_engineering.dump_path is not "
                "set; pass --params data_engineering.dump_path=<file or folder>."
            )
        bronze = merge_bronze(pd.DataFrame(), klines_to_bronze(read_kline_dump(params["dump_path"])))
        _check_bronze_interval(bronze, interval)
        logger.info("Bronze from the dump: %d candles.", len(bronze))
        return bronze

    symbol = str(params["symbol"])
    if not re.fullmatch(r"[A-Z0-9]{2,20}", symbol):
        raise ValueError(
            f"data_engineering.symbol={symbol!r} is not a Binance symbol; use the "
            "upper-case pair without separator, e.g. BTCUSDT."
        )
    now_ms = int(time.time() * 1000)
    start_ms = _start_milliseconds(str(params["start_date"]), now_ms)
    previous = bronze_previous
    if not previous.empty:
        previous = klines_to_bronze(previous)
        _check_bronze_interval(previous, interval)
        # The next candle opens one interval after the last stored one.
        start_ms = max(start_ms, int(previous["open_time"].max()) + (interval_milliseconds(interval) or 1))
    fetch_params = params.get("fetch", {})
    klines = fetch_closed_klines(
        binance_client,
        symbol=symbol,
        interval=interval,
        start_ms=start_ms,
        now_ms=now_ms,
        page_limit=int(fetch_params.get("page_limit", 1000)),
        policy=RetryPolicy.from_params(fetch_params),
    )
    if previous.empty and not klines:
        raise ValueError(
            f"Binance returned no closed {symbol} {interval} candle since "
            f"{params['start_date']}: check data_engineering.symbol and start_date."
        )
    bronze = merge_bronze(previous, klines_to_bronze(klines))
    logger.info(
        "Bronze: %d stored + %d new closed candles = %d.",
        len(previous),
        len(klines),
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
        exact = candles.duplicated(keep="first")
        conflicting = duplicated & ~candles.duplicated(keep=False)
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
    logger.warning("Dropping %d invalid candle(s). %s", int(bad.sum()), report)
    return candles[~bad].reset_index(drop=True)


def fill_gaps(candles: pd.DataFrame, interval: str, gap_policy: str) -> pd.DataFrame:
    """Silver: missing candles made explicit by ``gap_policy``, flagged in ``was_filled``."""
    _check_choice(gap_policy, GAP_POLICIES, "data_engineering.gap_policy")
    frequency = interval_frequency(interval)
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
