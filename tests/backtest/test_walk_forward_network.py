"""The walk-forward's network trains on rows before its origins only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from cryptopythia.backtest.walk_forward import make_origin_table, walk_forward_network
from cryptopythia.features import build_gold, check_parameters

from conftest import PROJECT_ROOT
from support.candles import generated_silver
from support.forecasters import SMALL_INTERVALS

CONF = PROJECT_ROOT / "conf" / "base"
MODELLING = yaml.safe_load((CONF / "parameters_modelling.yml").read_text())["modelling"]
BACKTEST = yaml.safe_load((CONF / "parameters_backtest.yml").read_text())["backtest"]
FEATURES = yaml.safe_load((CONF / "parameters_feature_engineering.yml").read_text())[
    "feature_engineering"
]
TINY = {
    **MODELLING,
    "n_timesteps": 12,
    "epochs": 2,
    "batch_size": 32,
    "deterministic": True,
    "precision": "float32",
    "features": ["log_return", "rsi_14", "volume", "ema_12"],
    "horizon": 3,
    "intervals": SMALL_INTERVALS,
    "layers": {
        **MODELLING["layers"],
        "conv_filters": [4],
        "conv_kernel_sizes": [3],
        "pool_sizes": [2],
        "lstm_units": [4],
        "dense_units": [4],
    },
}


def backtest_first_origin(candles: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, int]:
    units = check_parameters(FEATURES, "1d")["units"]
    table, spec, origins = make_origin_table(
        build_gold(candles, FEATURES, "1d"), TINY, units, settings
    )
    first = origins.iloc[:1]
    return walk_forward_network(table, spec, first, candles, TINY, FEATURES, settings), int(
        first["origin"].iloc[0]
    )


@pytest.mark.slow
def test_scrambling_rows_after_an_origin_leaves_its_forecast_unchanged():
    settings = {**BACKTEST, "n_origins": 20, "refit_every": 10, "horizon": 3, "epochs": 2}
    candles = generated_silver(300, seed=3)
    before, origin = backtest_first_origin(candles, settings)
    assert len(before) == 3 and np.isfinite(before["forecast"]).all()

    origin_time = build_gold(candles, FEATURES, "1d")["open_time"].iloc[origin]
    scrambled = candles.copy()
    later = scrambled["open_time"] >= origin_time
    scrambled.loc[later, ["open", "high", "low", "close"]] *= 1.7
    scrambled.loc[later, "volume"] *= 3.0
    after, _ = backtest_first_origin(scrambled, settings)
    np.testing.assert_array_equal(before["forecast"], after["forecast"])
    np.testing.assert_array_equal(before["upper_95"], after["upper_95"])
    # ...while the actual values it is scored on did change.
    assert not np.allclose(before["actual"], after["actual"])
