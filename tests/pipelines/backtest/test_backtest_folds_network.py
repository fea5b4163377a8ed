"""The network's folds train on rows before their origin only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PROJECT_ROOT

from cryptopythia.pipelines.backtest.nodes import backtest_network, prepare_backtest

CONF = PROJECT_ROOT / "conf" / "base"
MODELLING = yaml.safe_load((CONF / "parameters_modelling.yml").read_text())["modelling"]
BACKTEST = yaml.safe_load((CONF / "parameters_backtest.yml").read_text())["backtest"]
TINY = {
    **MODELLING,
    "n_timesteps": 12,
    "epochs": 2,
    "batch_size": 32,
    "deterministic": True,
    "precision": "float32",
    "features": ["log_return", "volume"],
    "layers": {**MODELLING["layers"], "conv_filters": [4], "conv_kernel_sizes": [3],
               "pool_sizes": [2], "lstm_units": [4], "dense_units": [4]},
}


def gold(n_rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n_rows)))
    return pd.DataFrame({
        "open_time": pd.date_range("2020-01-01", periods=n_rows, freq="D", tz="UTC"),
        "close": close,
        "volume": rng.uniform(1, 2, n_rows),
        "log_return": np.concatenate([[0.0], np.diff(np.log(close))]),
    })


@pytest.mark.slow
def test_scrambling_rows_after_an_origin_leaves_its_forecast_unchanged():
    settings = {**BACKTEST, "n_folds": 2, "step": 10, "horizon": 3, "epochs": 2}
    original = gold(220)
    table, spec, folds = prepare_backtest(original, TINY, settings)
    first = backtest_network(table, spec, folds.iloc[:1], TINY, settings)

    origin = int(folds["origin"].iloc[0])
    scrambled = original.copy()
    scrambled.loc[origin:, ["close", "volume", "log_return"]] *= 1.7
    table_b, spec_b, folds_b = prepare_backtest(scrambled, TINY, settings)
    again = backtest_network(table_b, spec_b, folds_b.iloc[:1], TINY, settings)
    np.testing.assert_array_equal(first["forecast"], again["forecast"])
    np.testing.assert_array_equal(first["upper_95"], again["upper_95"])
    # ...while the actual values it is scored on did change.
    assert not np.allclose(first["actual"], again["actual"])
