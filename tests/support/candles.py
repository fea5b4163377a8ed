"""Generated candle tables for tests (and benchmarks): silver-shaped random walks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def generated_silver(rows: int, interval: str = "1d", seed: int = 0) -> pd.DataFrame:
    """A random-walk candle table of ``rows`` candles of ``interval`` from 2020-01-01 UTC."""
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(interval.replace("m", "min"))
    close = 20_000 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = close * rng.uniform(0.001, 0.02, rows)
    open_time = pd.date_range("2020-01-01", periods=rows, freq=step, tz="UTC")
    return pd.DataFrame(
        {
            "open_time": open_time,
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(10, 1_000, rows),
            "close_time": open_time + step - pd.Timedelta(milliseconds=1),
            "was_filled": False,
        }
    )


def silver_from_klines(klines: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Silver as data_engineering makes it from a Binance kline table: typed, validated,
    gaps forward-filled (the project's own silver steps)."""
    from cryptopythia.candles import fill_gaps, type_candles, validate_candles

    return fill_gaps(validate_candles(type_candles(klines), "raise"), interval, "ffill")
