"""``modelling.intervals.volatility: network`` through the registered pyfunc: the served
intervals are the ones inference computes with the network's correction, which the model's
stored files carry (not dropped for the base model's on the way)."""

from __future__ import annotations

import dataclasses

import mlflow
import numpy as np

from cryptopythia.model.forecaster import forecast
from cryptopythia.serving.payload import payload_from_candles
from cryptopythia.serving.pyfunc import log_candle_forecaster

from support.forecasters import make_forecaster, make_silver
from support.mlflow_store import temp_mlflow_store


def test_the_served_model_carries_the_network_volatility_correction(tmp_path):
    silver = make_silver(420)
    # naive (every shrinkage weight 0): the bounds depend on the volatility model only
    trained = make_forecaster(silver, volatility="network", shrinkage=[0.0] * 3)
    params = trained.volatility_params
    assert params["base"] == "garch" and len(params["weights"]) == 3
    # the weights that the calibration rows would grant on real evidence, forced here so
    # that the network shows in every step; and the same model without it
    corrected = dataclasses.replace(trained, volatility_params={**params, "weights": [1.0] * 3})
    uncorrected = dataclasses.replace(trained, volatility_params={**params, "weights": [0.0] * 3})
    expected = forecast(silver, corrected, 3)
    base = forecast(silver, uncorrected, 3)
    assert not np.allclose(expected["upper_80"], base["upper_80"], rtol=1e-4)

    limits = {
        "max_horizon": 10,
        "min_candles": corrected.min_candles,
        "max_candles": 420,
        "max_gap_candles": 5,
        "max_request_rows": 600,
        "max_quantiles": 20,
    }
    with temp_mlflow_store(tmp_path, "network_volatility"), mlflow.start_run():
        info = log_candle_forecaster(corrected, "network_forecaster", silver, limits)
        model = mlflow.pyfunc.load_model(info.model_uri)
    answer = model.predict(payload_from_candles(silver), params={"steps": 3})
    for column in ("lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(answer[column], expected[column], rtol=1e-6)
