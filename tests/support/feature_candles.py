"""Candles for the feature tests (tests/features, tests/indicators, tests/pipelines/feature_engineering):
small generated ones and the real BTCUSDT ones.

Plain helpers, not a conftest.py: a second ``conftest`` module would shadow
tests/conftest.py for ``from conftest import run_kedro`` in other test folders.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import pandas as pd
import yaml

from support.candles import generated_silver, silver_from_klines  # noqa: F401 (re-exported)
from support.project import DAILY_CANDLES, FOUR_HOUR_CANDLES, PROJECT_ROOT

PARAMETERS_FILE = PROJECT_ROOT / "conf" / "base" / "parameters_feature_engineering.yml"


def base_params() -> dict[str, Any]:
    """A fresh copy of conf/base/parameters_feature_engineering.yml's ``feature_engineering``."""
    return copy.deepcopy(_read_params())


@functools.cache
def _read_params() -> dict[str, Any]:
    return yaml.safe_load(PARAMETERS_FILE.read_text())["feature_engineering"]


@functools.cache
def real_silver(interval: str) -> pd.DataFrame:
    """Silver made from the real BTCUSDT candles of ``interval`` ("1d" or "4h"); do not modify it."""
    candles = {"1d": DAILY_CANDLES, "4h": FOUR_HOUR_CANDLES}[interval]
    silver = silver_from_klines(pd.read_csv(candles), interval)
    return silver[
        ["open_time", "open", "high", "low", "close", "volume", "close_time", "was_filled"]
    ]
