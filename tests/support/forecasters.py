"""Small forecasters for the inference tests: a real (tiny) network on generated candles."""

from __future__ import annotations

import pandas as pd
import yaml

from cryptopythia.features import build_gold, check_parameters
from cryptopythia.model.forecaster import Forecaster
from cryptopythia.model.network import build_model
from cryptopythia.model.scaling import fit_scaler
from cryptopythia.model.table import prepare_model_table
from cryptopythia.model.volatility import fit_volatility

from conftest import PROJECT_ROOT
from support.candles import generated_silver

CONF = PROJECT_ROOT / "conf" / "base"
FEATURE_PARAMS = yaml.safe_load((CONF / "parameters_feature_engineering.yml").read_text())[
    "feature_engineering"
]
MODELLING = yaml.safe_load((CONF / "parameters_modelling.yml").read_text())["modelling"]
TINY_LAYERS = {
    **MODELLING["layers"],
    "conv_filters": [4, 4],
    "conv_kernel_sizes": [3, 3],
    "pool_sizes": [2, 2],
    "lstm_units": [8],
    "dense_units": [4],
}
STEP = {"1d": pd.Timedelta(days=1), "4h": pd.Timedelta(hours=4)}
# Interval settings small enough for a few hundred generated candles.
SMALL_INTERVALS = {
    **MODELLING["intervals"],
    "ewma_window": 30,
    "calibration_window": 40,
    "adaptation_origins": 20,
    "network": {**MODELLING["intervals"]["network"], "epochs": 2},
}


def make_silver(n_rows: int, interval: str = "1d", seed: int = 1) -> pd.DataFrame:
    """Silver-shaped random-walk candles."""
    return generated_silver(n_rows, interval, seed)


def make_forecaster(
    silver: pd.DataFrame,
    interval: str = "1d",
    horizon: int = 3,
    target: str = "log_return",
    n_timesteps: int = 22,
    shrinkage: list[float] | None = None,
    volatility: str = "garch",
) -> Forecaster:
    """An untrained but fixed tiny network: enough to test the forecast mechanics."""
    import keras

    keras.utils.set_random_seed(7)
    gold = build_gold(silver, FEATURE_PARAMS, interval)
    params = {
        **MODELLING,
        "layers": TINY_LAYERS,
        "horizon": horizon,
        "target": target,
        "n_timesteps": n_timesteps,
    }
    units = check_parameters(FEATURE_PARAMS, interval)["units"]
    intervals = {**SMALL_INTERVALS, "volatility": volatility}
    table, spec = prepare_model_table(gold, params, units)
    scaler = fit_scaler(table, spec)
    model = build_model(
        n_timesteps,
        len(spec.scaler_columns),
        horizon,
        TINY_LAYERS,
        1e-3,
        precision="float32",
        jit_compile=False,
        steps_per_execution=1,
    )
    return Forecaster(
        model=model,
        scaler=scaler,
        spec=spec,
        feature_params=FEATURE_PARAMS,
        shrinkage=[1.0] * horizon if shrinkage is None else shrinkage,
        intervals=intervals,
        volatility_params=fit_volatility(table, intervals, horizon),
    )
