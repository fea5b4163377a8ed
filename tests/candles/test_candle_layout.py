"""Binance intervals: telling a table's interval from its open times."""

from __future__ import annotations

import pandas as pd
import pytest


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
