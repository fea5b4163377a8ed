"""A served request's candles <-> silver-shaped candles, validated and gap-filled exactly
as the data_engineering pipeline does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..candles import fill_gaps, interval_milliseconds, type_candles, validate_candles
from ..model.forecaster import CANDLE_INPUT_COLUMNS

PAYLOAD_COLUMNS = CANDLE_INPUT_COLUMNS  # open_time in ms since the epoch, as Binance sends it


def candles_from_payload(payload: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Silver-shaped candles from a request's rows (Binance kline columns), validated
    and gap-filled exactly as the data_engineering pipeline does."""
    missing = [c for c in PAYLOAD_COLUMNS if c not in payload.columns]
    if missing:
        raise ValueError(
            f"The candles lack the column(s) {missing}; send Binance kline columns "
            f"{list(PAYLOAD_COLUMNS)} (open_time in ms), one row per candle."
        )
    bronze = payload[list(PAYLOAD_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = bronze.isna().any(axis=1)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} candle row(s) have a missing or non-numeric value (first: "
            f"row {int(np.argmax(bad.to_numpy()))}); every column must be a number."
        )
    step_ms = interval_milliseconds(interval) or 1
    bronze["close_time"] = bronze["open_time"].astype("int64") + step_ms - 1
    return fill_gaps(validate_candles(type_candles(bronze), "raise"), interval, "ffill")


def payload_from_candles(candles: pd.DataFrame) -> pd.DataFrame:
    """Candles as a client sends them: Binance kline columns, open_time in ms."""
    payload = candles[list(PAYLOAD_COLUMNS)].copy()
    epoch = pd.Timestamp(0, tz="UTC")
    payload["open_time"] = ((payload["open_time"] - epoch) // pd.Timedelta(milliseconds=1)).astype(
        "int64"
    )
    return payload
