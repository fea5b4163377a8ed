"""Silver's rules for candle tables, shared by data_engineering and the served model:
typed and de-duplicated (type_candles), valid prices (validate_candles), no hidden gap
(fill_gaps)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .layout import (
    EARLIEST_MS,
    LATEST_MS,
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    interval_frequency,
)

logger = logging.getLogger(__name__)

GAP_POLICIES = ("ffill", "keep", "raise")
INVALID_ROW_POLICIES = ("raise", "drop")


def check_kline_times(
    times: pd.Series, column: str, where: str, shown: pd.Series | None = None, first_row: int = 0
) -> None:
    """Raise, naming the first row (numbered from ``first_row``) and its value (``shown``,
    default ``times``), if a time in epoch ms is outside Binance's era, 2010..2100: seconds,
    a wrong unit, or a number that overflows int64."""
    outside = ~times.between(EARLIEST_MS, LATEST_MS)
    if outside.any():
        row = int(outside.to_numpy().argmax())
        value = (times if shown is None else shown).iloc[row]
        raise ValueError(
            f"{where}: {int(outside.sum())} row(s) with {column} outside 2010..2100 in epoch "
            f"milliseconds (first at row {row + first_row}: {value:.0f}). Binance klines carry "
            "UTC epoch milliseconds (microseconds in dumps since 2025); fix the source."
        )


def check_choice(value: str, choices: tuple[str, ...], parameter: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``parameter``."""
    if value not in choices:
        raise ValueError(f"Unknown {parameter}={value!r}; choose one of: {', '.join(choices)}.")
    return value


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
    return _drop_duplicate_candles(candles)


def _drop_duplicate_candles(candles: pd.DataFrame) -> pd.DataFrame:
    """``candles`` without exact repeats; rows sharing an open_time but not values raise."""
    duplicated = candles["open_time"].duplicated(keep=False)
    if not duplicated.any():
        return candles
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
    return candles[~exact].reset_index(drop=True)


def broken_rules(candles: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per price rule: True where the row breaks it (a missing value
    breaks only the first rule). On numpy arrays: it runs on every served request."""
    numbers = {c: _floats(candles[c]) for c in (*PRICE_COLUMNS, "volume")}
    prices = np.column_stack([numbers[c] for c in PRICE_COLUMNS])
    highest, lowest = (
        np.fmax(numbers["open"], numbers["close"]),
        np.fmin(numbers["open"], numbers["close"]),
    )
    with np.errstate(invalid="ignore"):
        rules = {
            "a price or volume is missing": np.column_stack(
                [pd.isna(candles[c].to_numpy()) for c in REQUIRED_COLUMNS]
            ).any(axis=1),
            "prices and volume are finite": np.isinf(
                np.column_stack([prices, numbers["volume"]])
            ).any(axis=1),
            "prices > 0": (prices <= 0).any(axis=1),
            "high >= max(open, close)": numbers["high"] < highest,
            "low <= min(open, close)": numbers["low"] > lowest,
            "volume >= 0": numbers["volume"] < 0,
        }
    return pd.DataFrame(rules, index=candles.index)


def _floats(column: pd.Series) -> np.ndarray:
    """A numeric column as float64, missing values as NaN."""
    return column.to_numpy(dtype="float64", na_value=np.nan)


def validate_candles(candles: pd.DataFrame, invalid_rows: str) -> pd.DataFrame:
    """Candles that obey the price rules; breaking rows raise or are dropped (reported)."""
    check_choice(invalid_rows, INVALID_ROW_POLICIES, "data_engineering.invalid_rows")
    broken = broken_rules(candles)
    bad = broken.any(axis=1)
    if not bad.any():
        return candles
    report = "; ".join(
        f"{rule}: {int(broken[rule].sum())} row(s), first at "
        f"{candles.loc[broken[rule], 'open_time'].head(3).dt.strftime('%Y-%m-%d %H:%M').tolist()}"
        for rule in broken.columns
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
    check_choice(gap_policy, GAP_POLICIES, "data_engineering.gap_policy")
    frequency = interval_frequency(interval)
    if candles.empty:
        raise ValueError(
            "No candle left to build silver from: every row was dropped (e.g. by "
            "data_engineering.invalid_rows=drop). Fix the source or its start_date."
        )
    grid = _candle_grid(candles, interval, frequency)
    missing = grid.difference(pd.DatetimeIndex(candles["open_time"]))
    silver = candles.assign(was_filled=False)
    if missing.empty:
        logger.info("Silver: %d candles, no gap.", len(silver))
        return silver
    _report_gaps(grid, missing, interval, gap_policy)
    if gap_policy == "keep":
        return silver
    return _forward_fill(silver, grid, frequency)


def _candle_grid(
    candles: pd.DataFrame, interval: str, frequency: pd.Timedelta | pd.DateOffset
) -> pd.DatetimeIndex:
    """Every open time from the first candle to the last; raises if a candle is off it."""
    grid = pd.date_range(
        candles["open_time"].iloc[0], candles["open_time"].iloc[-1], freq=frequency
    )
    off_grid = ~candles["open_time"].isin(grid)
    if off_grid.any():
        raise ValueError(
            f"{int(off_grid.sum())} candle(s) do not fall on the {interval} grid (first: "
            f"{candles.loc[off_grid, 'open_time'].iloc[0]}); is "
            f"data_engineering.interval={interval!r} the interval of the data?"
        )
    return grid


def off_grid(times: pd.Series, interval: str) -> np.ndarray:
    """True where an open time is not where Binance opens an ``interval`` candle: UTC
    midnight plus whole intervals, Mondays for 1w, the 1st for 1M (3d: never, its anchor
    is not documented; fill_gaps still checks the spacing)."""
    if interval == "1M":
        return ~((times.dt.day == 1) & (times == times.dt.normalize())).to_numpy()
    step = pd.Timedelta(interval_frequency(interval))
    if interval == "1w":
        since_anchor = times - pd.Timestamp("1970-01-05", tz="UTC")  # a Monday
    elif pd.Timedelta(days=1) % step == pd.Timedelta(0):
        since_anchor = times - times.dt.normalize()  # since UTC midnight
    else:
        return np.zeros(len(times), dtype=bool)
    return (since_anchor % step != pd.Timedelta(0)).to_numpy()


def check_on_grid(candles: pd.DataFrame, interval: str) -> pd.DataFrame:
    """``candles`` if every one opens on Binance's ``interval`` grid, else raise naming the
    first row off it."""
    off = off_grid(candles["open_time"], interval)
    if off.any():
        row = int(off.argmax())
        raise ValueError(
            f"{int(off.sum())} candle(s) do not open on the {interval} grid, first at row "
            f"{row}: {candles['open_time'].iloc[row]}. Binance opens {interval} candles at "
            "fixed times (UTC); is data_engineering.interval the interval of the data?"
        )
    return candles


def _report_gaps(
    grid: pd.DatetimeIndex, missing: pd.DatetimeIndex, interval: str, gap_policy: str
) -> None:
    """Log the gaps; raise if ``gap_policy`` is "raise"."""
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


def _forward_fill(
    silver: pd.DataFrame, grid: pd.DatetimeIndex, frequency: pd.Timedelta | pd.DateOffset
) -> pd.DataFrame:
    """``silver`` on the full grid: a missing candle is flat at the last close, volume 0."""
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
