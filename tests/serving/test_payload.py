"""Request candles -> silver-shaped candles: the parts of the payload that depend on the
interval (close times, gaps), beyond tests/serving/test_pyfunc.py's served model."""

from __future__ import annotations

import pandas as pd

from cryptopythia.serving.payload import RequestLimits, candles_from_payload


def test_a_served_monthly_request_gets_binance_close_times():
    opens = pd.date_range("2020-01-01", periods=30, freq="MS", tz="UTC")
    open_ms = (opens - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    payload = pd.DataFrame(
        {"open_time": open_ms, "open": 10.0, "high": 14.0, "low": 9.0, "close": 11.0}
    ).assign(volume=5.0, close=lambda f: 11.0 + f.index % 3)
    limits = RequestLimits(max_request_rows=100, min_candles=20, max_candles=40, max_gap_candles=2)
    candles = candles_from_payload(payload, "1M", limits)
    assert (
        candles["close_time"].iloc[:-1].to_numpy() + pd.Timedelta(milliseconds=1)
        == candles["open_time"].iloc[1:].to_numpy()
    ).all()
