"""The inference node's risk table: VaR/ES of the next candle from the forecast's quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.pipelines.inference.nodes import forecast_to_target

from support.feature_candles import real_silver
from support.forecasters import make_forecaster

INFO = {"model_name": "btc_forecaster", "model_version": "3", "model_alias": "staging"}
INFERENCE = {
    "target_date": None,
    "default_steps": 5,
    "max_horizon": 365,
    "quantiles": [0.01, 0.05, 0.95, 0.99],
    "risk_levels": [0.95, 0.99],
}


def test_forecast_carries_quantiles_and_risk_reads_them():
    silver = real_silver("1d").iloc[-600:].reset_index(drop=True)
    forecast, risk = forecast_to_target(silver, make_forecaster(silver, horizon=7), INFO, INFERENCE)
    assert len(forecast) == 5
    columns = ["quantile_0.01", "quantile_0.05", "quantile_0.95", "quantile_0.99"]
    assert (np.diff(forecast[columns].to_numpy(), axis=1) > 0).all()
    assert list(risk["level"]) == [0.95, 0.99]
    assert (risk["open_time"] == forecast["open_time"].iloc[0]).all()
    assert (risk["model_version"] == "3").all()
    last = silver["close"].iloc[-1]
    for level, column in ((0.95, "quantile_0.05"), (0.99, "quantile_0.01")):
        row = risk[risk["level"] == level].iloc[0]
        # the VaR is the loss at the lower quantile of the same function
        assert row["value_at_risk"] == pytest.approx(-np.log(forecast[column].iloc[0] / last))
        assert row["expected_shortfall"] >= row["value_at_risk"]
    assert risk["value_at_risk"].iloc[1] >= risk["value_at_risk"].iloc[0]
