"""Helpers of the modelling tests: a gold table from the real daily candles, runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import yaml

from cryptopythia.features import check_parameters

from conftest import DAILY_CANDLES, PROJECT_ROOT, run_kedro

# conf/base/parameters_modelling.yml's `modelling:` block.
PARAMS = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_modelling.yml").read_text())[
    "modelling"
]
FEATURE_PARAMS = yaml.safe_load(
    (PROJECT_ROOT / "conf" / "base" / "parameters_feature_engineering.yml").read_text()
)["feature_engineering"]
# The units of every gold column of the default feature plan (daily candles).
UNITS = check_parameters(FEATURE_PARAMS, "1d")["units"]


def make_gold(n_rows: int | None = None) -> pd.DataFrame:
    """Gold-shaped candles (bronze columns, was_filled, a few float features, no NaN)
    from the first ``n_rows`` real daily candles, independent of feature_engineering."""
    raw = pd.read_csv(DAILY_CANDLES, nrows=n_rows)
    gold = pd.DataFrame(
        {
            "open_time": pd.to_datetime(raw["open_time"], unit="ms", utc=True),
            **{c: raw[c].astype("float64") for c in ("open", "high", "low", "close", "volume")},
            "close_time": pd.to_datetime(raw["close_time"], unit="ms", utc=True),
            "was_filled": False,
        }
    )
    close = gold["close"]
    gold["log_return"] = np.log(close).diff()
    gold["ema_12"] = close.ewm(span=12, adjust=False).mean()
    gold["macd"] = gold["ema_12"] - close.ewm(span=26, adjust=False).mean()
    day = gold["open_time"].dt.dayofweek
    gold["dow_sin"] = np.sin(2 * np.pi * day / 7)
    gold["dow_cos"] = np.cos(2 * np.pi * day / 7)
    return gold.iloc[26:].reset_index(drop=True)  # warm-up rows dropped, as gold does


def write_gold(project: Path, n_rows: int | None = None) -> pd.DataFrame:
    """Write a gold table where the catalog expects it (data/03_primary/gold.csv)."""
    gold = make_gold(n_rows)
    gold.to_csv(project / "data" / "03_primary" / "gold.csv", index=False)
    return gold


# --params of a tiny, quick modelling run.
# champion_requires_backtest off: these tests exercise the test-RMSE rule of training alone.
FAST_PARAMS = {
    "modelling.epochs": 2,
    "modelling.verbose": 0,
    "modelling.registry.champion_requires_backtest": False,
    "modelling.registry.champion_metric": "rmse",
}


def run_pipeline(
    project: Path, pipeline: str, env: str | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``run_kedro``, then close the MLflow run left on the stack.

    kedro-mlflow reopens the run before every node with ``nested: True`` (mlflow.yml)
    and closes it once: the next session in the same process would adopt it.
    """
    try:
        return run_kedro(project, pipeline, env=env, params=params)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
