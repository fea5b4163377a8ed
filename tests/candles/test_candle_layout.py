"""Binance intervals: telling a table's interval from its open times, close times and the
steps between candles (calendar months for 1M)."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptopythia.candles import close_times_ms, steps_between


@pytest.mark.parametrize("interval", ["15m", "4h", "12h", "1d", "3d", "1w", "1M"])
def test_interval_of_names_binance_intervals(interval):
    from cryptopythia.candles import interval_frequency, interval_of

    times = pd.Series(
        pd.date_range("2024-01-01", periods=14, freq=interval_frequency(interval), tz="UTC")
    )
    assert interval_of(times) == interval


def test_interval_of_rejects_irregular_steps():
    from cryptopythia.candles import interval_of

    with pytest.raises(ValueError, match="match no Binance interval"):
        interval_of(pd.Series(pd.date_range("2024-01-01", periods=5, freq="7min", tz="UTC")))


def test_monthly_close_times_end_where_the_next_month_begins():
    """1M candles differ in length: a close time is the next month's first millisecond - 1
    (Binance's), never the open time itself or 31 days on."""
    opens = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"], utc=True))
    open_ms = (opens - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    closes = pd.to_datetime(close_times_ms(open_ms, "1M"), unit="ms", utc=True)
    assert list(closes + pd.Timedelta(milliseconds=1)) == list(
        pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01"], utc=True)
    )
    assert list(close_times_ms(open_ms, "1d") - open_ms) == [86_400_000 - 1] * 3


def test_steps_between_counts_calendar_months_for_1m():
    opens = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"], utc=True))
    open_ms = (opens - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    assert steps_between(open_ms, "1M").tolist()[1:] == [1, 3]
    assert steps_between(open_ms, "1d").tolist()[1:] == [31, 90]  # 2024 is a leap year
