"""What the fetch refuses, against the local fake Binance server: malformed pages, bad rows
(kept raw with invalid_rows=drop), an unknown symbol, bad parameters, no candle, another interval."""

from __future__ import annotations

import pytest
from test_fetch import PARAMS, fetch

from cryptopythia.sources.binance import BinanceFetchError
from cryptopythia.sources.bronze import klines_to_bronze

from support.fake_binance import Fault, make_klines


@pytest.mark.parametrize("kind", ["malformed", "garbage_rows"])
def test_malformed_payload_is_an_error_not_a_row(fake_binance, kind):
    fake_binance.klines["1d"] = make_klines(300, "1d")
    fake_binance.faults.append(Fault(kind))
    with pytest.raises(BinanceFetchError, match="malformed payload"):
        fetch(fake_binance)


@pytest.mark.parametrize(
    "column, value, message",
    [
        (4, None, r"malformed payload.*kline 4 of the page .*null close"),
        (6, None, r"malformed payload.*kline 4 of the page .*null close_time"),
        (1, "-5.0", r"Not updating data/01_raw/bronze.csv.*prices > 0: 1 row"),
    ],
)
def test_bad_rows_in_an_api_page_are_an_error_not_bronze(fake_binance, column, value, message):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    fake_binance.klines["1d"][4][column] = value
    with pytest.raises((BinanceFetchError, ValueError), match=message):
        fetch(fake_binance)


def test_null_open_time_from_the_api_is_a_malformed_payload(fake_binance):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    fake_binance.faults.append(Fault("null_field", field=0, row=3))
    with pytest.raises(BinanceFetchError, match=r"malformed payload.*kline 3 .*null open_time"):
        fetch(fake_binance)


def test_invalid_rows_drop_keeps_raw_rows_in_bronze(fake_binance):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    fake_binance.klines["1d"][4][4] = "-5.0"
    bronze = fetch(fake_binance, invalid_rows="drop")
    assert len(bronze) == 10 and bronze["close"].iloc[4] == -5.0


def test_unknown_symbol_is_reported_by_name(fake_binance):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    with pytest.raises(BinanceFetchError, match=r"ETHXYZ.*Invalid symbol"):
        fetch(fake_binance, symbol="ETHXYZ")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"interval": "7h"}, "Unknown candle interval '7h'"),
        ({"start_date": "2999-01-01"}, "in the future"),
        ({"start_date": "yesterday-ish"}, "is not a date"),
        ({"start_date": ""}, r"start_date='' is not a date; use YYYY-MM-DD"),
        ({"start_date": None}, r"start_date=None is not a date; use YYYY-MM-DD"),
        ({"symbol": "btc/usdt"}, "not a Binance symbol"),
        ({"fetch": {**PARAMS["fetch"], "max_tries": 0}}, "max_tries must be >= 1"),
    ],
)
def test_bad_parameters_fail_before_any_request(fake_binance, overrides, message):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    with pytest.raises(ValueError, match=message):
        fetch(fake_binance, **overrides)
    assert fake_binance.kline_requests == []


def test_empty_response_on_first_fetch_is_an_error(fake_binance):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    fake_binance.faults.append(Fault("empty"))
    with pytest.raises(ValueError, match="no closed BTCUSDT 1d candle"):
        fetch(fake_binance)


def test_bronze_of_another_interval_is_not_mixed(fake_binance):
    fake_binance.klines["4h"] = make_klines(50, "4h")
    stored = klines_to_bronze(make_klines(50, "1d"))
    with pytest.raises(ValueError, match="one interval per bronze file"):
        fetch(fake_binance, bronze_previous=stored, interval="4h")
