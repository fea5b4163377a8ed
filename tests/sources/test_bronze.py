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
