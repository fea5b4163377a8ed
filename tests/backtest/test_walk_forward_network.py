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

pytestmark = pytest.mark.slow  # real kedro runs / network training

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


def backtest_first_origin(
    candles: pd.DataFrame, settings: dict, modelling: dict = TINY, n_origins: int = 1
) -> tuple[pd.DataFrame, int]:
    units = check_parameters(FEATURES, "1d")["units"]
    table, spec, origins = make_origin_table(
        build_gold(candles, FEATURES, "1d"), modelling, units, settings
    )
    first = origins.iloc[:n_origins]
    forecasts = walk_forward_network(table, spec, first, candles, modelling, FEATURES, settings)
    return forecasts, int(first["origin"].iloc[0])


def network_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["model"] == TINY["network_name"]].reset_index(drop=True)


@pytest.mark.slow
def test_scrambling_rows_after_an_origin_leaves_its_forecast_unchanged():
    settings = {**BACKTEST, "n_origins": 20, "refit_every": 10, "horizon": 3, "epochs": 2}
    candles = generated_silver(300, seed=3)
    both, origin = backtest_first_origin(candles, settings)
    before = network_rows(both)
    assert len(before) == 3 and np.isfinite(before["forecast"]).all()

    origin_time = build_gold(candles, FEATURES, "1d")["open_time"].iloc[origin]
    scrambled = candles.copy()
    later = scrambled["open_time"] >= origin_time
    scrambled.loc[later, ["open", "high", "low", "close"]] *= 1.7
    scrambled.loc[later, "volume"] *= 3.0
    scrambled_both, _ = backtest_first_origin(scrambled, settings)
    after = network_rows(scrambled_both)
    np.testing.assert_array_equal(before["forecast"], after["forecast"])
    unshrunk = both["model"] == f"{TINY['network_name']}_unshrunk"  # the network's own
    assert unshrunk.sum() == 3
    np.testing.assert_array_equal(
        both.loc[unshrunk, "forecast"], scrambled_both.loc[unshrunk, "forecast"]
    )
    np.testing.assert_array_equal(before["upper_95"], after["upper_95"])
    # ...while the actual values it is scored on did change.
    assert not np.allclose(before["actual"], after["actual"])


@pytest.mark.slow
def test_the_unshrunk_rows_are_the_network_s_own_forecasts():
    """With shrinkage off (weight 1 at every step) the walk-forward's forecasts, made by
    inference's ``forecast`` from the latest candles, equal the unshrunk rows, made from the
    model table at once: the two paths agree (to the features' ~1e-7 convergence)."""
    settings = {**BACKTEST, "n_origins": 20, "refit_every": 10, "horizon": 3, "epochs": 2}
    unshrunk_recipe = {**TINY, "shrinkage": {**TINY["shrinkage"], "enabled": False}}
    both, _ = backtest_first_origin(generated_silver(300, seed=3), settings, unshrunk_recipe, 12)
    network = network_rows(both)
    unshrunk = both[both["model"] == f"{TINY['network_name']}_unshrunk"].reset_index(drop=True)
    assert len(network) == len(unshrunk) == 12 * 3 and set(network["refit"]) == {0, 1}
    pd.testing.assert_frame_equal(
        network[["origin", "step", "actual"]], unshrunk[["origin", "step", "actual"]]
    )
    assert not np.allclose(network["forecast"], network["last_close"])  # the network moves
    np.testing.assert_allclose(network["forecast"], unshrunk["forecast"], rtol=1e-6)
