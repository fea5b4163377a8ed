"""Checks of new candles that no price rule covers: candles not closed yet, close times
that do not match the interval (dumps), and 99.9% moves (a warning)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..candles import close_times_ms

logger = logging.getLogger(__name__)


def _ms(value: object) -> pd.Timestamp:
    return pd.Timestamp(int(value), unit="ms", tz="UTC")


def _drop_or_refuse(
    dump: pd.DataFrame, bad: np.ndarray, what: str, why: str, invalid_rows: str
) -> pd.DataFrame:
    """``dump`` without its ``bad`` rows with ``invalid_rows: drop`` (said in a warning),
    else a ValueError saying ``what`` and ``why``: nothing is stored."""
    if invalid_rows == "drop":
        logger.warning("%s: dropped (data_engineering.invalid_rows=drop).", what)
        return dump[~bad].reset_index(drop=True)
    raise ValueError(
        f"{what}. Nothing was stored: {why} Fix or remove those rows, or set "
        "data_engineering.invalid_rows=drop to skip them."
    )


def closed_dump_candles(
    dump: pd.DataFrame, now_ms: int, invalid_rows: str, dump_path: str
) -> pd.DataFrame:
    """The dump's candles that closed before ``now_ms``, as the API path stores only those;
    the others are refused or dropped (``invalid_rows``)."""
    not_closed = dump["close_time"].to_numpy() >= now_ms
    if not not_closed.any():
        return dump
    what = (
        f"{int(not_closed.sum())} candle(s) in the kline dump {dump_path} had not closed by "
        f"now ({_ms(now_ms)}), the first opening {_ms(dump.loc[not_closed, 'open_time'].min())}"
    )
    why = "a dump may hold closed candles only (is its clock or its data wrong?)."
    return _drop_or_refuse(dump, not_closed, what, why, invalid_rows)


def consistent_close_times(
    dump: pd.DataFrame, interval: str, invalid_rows: str, dump_path: str
) -> pd.DataFrame:
    """The dump's candles whose close_time is open_time + interval - 1 ms, as Binance
    writes it; the others are refused or dropped (``invalid_rows``)."""
    expected = close_times_ms(dump["open_time"], interval).to_numpy()
    wrong = dump["close_time"].to_numpy() != expected
    if not wrong.any():
        return dump
    first = dump[wrong].iloc[0]
    what = (
        f"{int(wrong.sum())} candle(s) in the kline dump {dump_path} close at another time "
        f"than open_time + {interval} - 1 ms; the first opens {_ms(first['open_time'])} and "
        f"closes {_ms(first['close_time'])}"
    )
    why = "is it a dump of another interval, or are its columns shifted?"
    return _drop_or_refuse(dump, wrong, what, why, invalid_rows)


# A close below 0.1% of the one before, or above 1000x it: a 99.9% move in one candle,
# which real markets almost never make and broken data (a wick, a unit change) often does.
_JUMP_RATIO = 1000.0


def warn_price_jumps(bronze: pd.DataFrame, new: pd.DataFrame) -> None:
    """Log a warning naming the new candles whose close moved 99.9% or more from the
    candle before (stored or new), or whose next candle moved that far from them: likely
    bad data, stored only because no price rule forbids it."""
    if len(bronze) < 2 or new.empty:
        return
    ordered = bronze.sort_values("open_time")
    closes = ordered["close"].to_numpy(dtype="float64")
    opens = ordered["open_time"].to_numpy()
    is_new = np.isin(opens, new["open_time"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = closes[1:] / closes[:-1]
    jumps = ((ratio <= 1 / _JUMP_RATIO) | (ratio >= _JUMP_RATIO)) & (is_new[1:] | is_new[:-1])
    if jumps.any():
        times = pd.to_datetime(opens[1:][jumps], unit="ms", utc=True)
        logger.warning(
            "%d new candle(s) closed 99.9%% or more away from the candle before (a price "
            "1000x off: bad data?), at %s. Check the source before training on them.",
            int(jumps.sum()),
            ", ".join(str(t) for t in times[:5]),
        )
