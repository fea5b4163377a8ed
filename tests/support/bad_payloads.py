"""Request payloads for the served pyfunc, each spoiled one way, with the message its 400
must give (tests/serving/test_pyfunc.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from cryptopythia.serving.payload import payload_from_candles


def bad_payloads(silver: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame, str | None]]:
    """(case, payload, the 400's message or None for a payload that is served) for the
    served pyfunc's validation: a good payload of ``silver``, spoiled one way each."""
    good = payload_from_candles(silver)
    last = len(good) - 1
    yield "missing", good.drop(columns=["volume"]), r"lack the column\(s\) \['volume'\]"
    yield "too few", good.tail(10), "too few"
    yield "below min_candles", good.tail(169), "send at least 170"
    negative = good.copy()
    negative.loc[last, "low"] = -1.0
    yield "negative", negative, rf"request row {last}: breaks the rule prices > 0"
    low_high = good.copy()
    low_high.loc[last - 3, "high"] = low_high.loc[last - 3, "close"] * 0.9
    yield (
        "high < close",
        low_high,
        rf"request row {last - 3}: breaks the rule high >= max\(open, close\)",
    )
    infinite = good.copy()
    infinite["high"] = infinite["high"].astype(object)
    infinite.loc[7, "high"] = "inf"
    yield "infinite", infinite, r"request row 7: high is missing, not a number or infinite"
    # 601 candles opening at -8999999942400000 ms would be ~1e8 candles once gap-filled
    ancient = pd.concat([good.head(1).assign(open_time=-8999999942400000), good])
    yield "ancient", ancient, r"request row 0: open_time -8999999942400000 is not a time"
    epoch = pd.concat([good.head(1).assign(open_time=0), good])
    yield "1970", epoch, r"request row 0: open_time 0 is not a time between 2010 and 2100"
    gap = good.drop(index=range(100, 110))
    yield "long gap", gap, r"request rows 99, 100: 10 1d candles are missing between them"
    off = good.copy()
    off.loc[last, "open_time"] += 12 * 3_600_000
    yield "off grid", off, rf"request row {last}: open_time .* 12:00:00\+00:00 is not when a 1d"
    twin = pd.concat([good, good.tail(1).assign(close=good["close"].iloc[-1] * 1.01)])
    yield "twins", twin, rf"request rows {last}, {last + 1}: different candles with the same"
    gappy = good.drop(index=good.index[-30])
    yield "unsorted", pd.concat([good.tail(5), good.head(-5)]), None  # sorted, then fine
    yield "gap", gappy, None  # one missing candle: filled, as silver is
    yield "repeated", pd.concat([good, good.tail(3)]), None  # exact repeats: kept once
    # issue 22, item 10
    yield "empty", good.head(0), "The request holds no candle"
    yield (
        "repeats leave too few",
        pd.concat([good.tail(100)] * 3, ignore_index=True),
        r"request rows 100, 101, 102 \.\.\.: repeat candles already sent .*100 distinct "
        r"candles are too few",
    )
    yield (
        "duplicated column",
        pd.concat([good, good[["volume"]]], axis=1),
        r"the column\(s\) \['volume'\] are sent more than once",
    )
    fractional = good.astype({"open_time": "float64"})
    fractional.loc[last, "open_time"] += 0.5
    yield (
        "fractional open_time",
        fractional,
        rf"request row {last}: open_time \d+\.5 is not a whole number of milliseconds",
    )
    flat = good.assign(open=100.0, high=100.0, low=100.0, close=100.0)
    yield (
        "flat",
        flat,
        r"the latest 170 candles are flat \(open = high = low = close in every one\)",
    )
    still = good.assign(close=good["close"].iloc[-1]).assign(
        open=lambda f: f["close"], high=lambda f: f["close"] * 1.01, low=lambda f: f["close"] * 0.99
    )
    yield "close never moves", still, r"the close is .* in every one of the latest 170 candles"
    huge = good.assign(**{c: good[c] * 1e300 for c in ["open", "high", "low", "close"]})
    yield "huge prices", huge, r"NaN or infinite .*: prices too large or too small"
    yield "too many rows", pd.concat([good] * 3), r"780 rows; at most 600 rows"
