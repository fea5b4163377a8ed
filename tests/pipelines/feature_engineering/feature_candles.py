"""Candles for the feature_engineering tests: small generated ones and the real BTCUSDT ones.

Plain helpers, not a conftest.py: a second ``conftest`` module would shadow
tests/conftest.py for ``from conftest import run_kedro`` in other test folders.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from candles import generated_silver  # noqa: F401  (re-exported for the FE tests)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
PARAMETERS_FILE = PROJECT_ROOT / "conf" / "base" / "parameters_feature_engineering.yml"


def silver_from_klines(klines: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Silver as data_engineering makes it: UTC times, gaps forward-filled (close into OHLC, volume 0)."""
    step = pd.Timedelta(interval.replace("m", "min"))
    candles = klines.assign(
        open_time=pd.to_datetime(klines["open_time"], unit="ms", utc=True),
        close_time=pd.to_datetime(klines["close_time"], unit="ms", utc=True),
    ).set_index("open_time")
    grid = pd.date_range(candles.index[0], candles.index[-1], freq=step, name="open_time")
    filled = candles.reindex(grid)
    gap = filled["close"].isna()
    last_close = filled["close"].ffill()
    for column in ("open", "high", "low", "close"):
        filled[column] = filled[column].fillna(last_close)
    filled["volume"] = filled["volume"].fillna(0.0)
    filled["close_time"] = filled.index + step - pd.Timedelta(milliseconds=1)
    filled["was_filled"] = gap.to_numpy()
    return filled.reset_index()[
        ["open_time", "open", "high", "low", "close", "volume", "close_time", "was_filled"]
    ]


def base_params() -> dict[str, Any]:
    """A fresh copy of conf/base/parameters_feature_engineering.yml's ``feature_engineering``."""
    return copy.deepcopy(_read_params())


@functools.cache
def _read_params() -> dict[str, Any]:
    return yaml.safe_load(PARAMETERS_FILE.read_text())["feature_engineering"]


@functools.cache
def real_silver(interval: str) -> pd.DataFrame:
    """Silver made from the real BTCUSDT candles of ``interval`` ("1d" or "4h"); do not modify it."""
    return silver_from_klines(pd.read_csv(SHARED_DATA / f"btcusdt_{interval}.csv"), interval)
