"""Binance klines as the bronze table."""

from __future__ import annotations

import pytest

from cryptopythia.sources.bronze import klines_to_bronze

from support.fake_binance import make_klines


def test_null_fields_in_klines_are_named_not_turned_into_nan():
    klines = make_klines(5, "1d", with_open_candle=False)
    klines[2][5] = None
    with pytest.raises(ValueError, match=r"null field, first \(row 2\)"):
        klines_to_bronze(klines)


@pytest.mark.parametrize("open_time", [5, 1.7e9, 1e20])  # seconds, seconds, an overflow
def test_api_kline_times_outside_binance_era_are_named(open_time):
    klines = [list(k) for k in make_klines(5, "1d", with_open_candle=False)]
    klines[2][0] = open_time
    with pytest.raises(
        ValueError,
        match=rf"Klines: 1 row\(s\) with open_time outside 2010..2100 .*row 2: {open_time:.0f}",
    ):
        klines_to_bronze(klines)
