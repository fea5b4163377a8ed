"""The registered pyfunc: candles in, the inference forecast out; bad payloads are 400s."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from cryptopythia.model.forecaster import forecast
from cryptopythia.serving.payload import payload_from_candles
from cryptopythia.serving.pyfunc import log_candle_forecaster

from support.forecasters import make_forecaster, make_silver


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(silver, forecaster, pyfunc loaded back from a real sqlite MLflow store)."""
    folder = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_experiment("pyfunc")  # not an experiment id left by an earlier kedro run
    silver = make_silver(260)
    forecaster = make_forecaster(silver)
    with mlflow.start_run():
        info = log_candle_forecaster(
            forecaster, "btc_candle_forecaster", silver, max_horizon=40, min_candles=170
        )
    yield silver, forecaster, mlflow.pyfunc.load_model(info.model_uri)
    mlflow.set_tracking_uri(previous)


def test_pyfunc_forecast_equals_the_inference_forecast(served):
    silver, forecaster, model = served
    expected = forecast(silver, forecaster, 5)
    answer = model.predict(payload_from_candles(silver), params={"steps": 5})
    np.testing.assert_allclose(answer["forecast_close"], expected["forecast_close"], rtol=1e-6)
    np.testing.assert_allclose(answer["upper_80"], expected["upper_80"], rtol=1e-6)
    assert list(answer["open_time"]) == list(
        expected["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def test_target_date_param(served):
    silver, _, model = served
    last = silver["open_time"].iloc[-1]
    answer = model.predict(
        payload_from_candles(silver),
        params={"target_date": str((last + pd.Timedelta(days=4)).date())},
    )
    assert list(answer["step"]) == [1, 2, 3, 4]


def bad_payloads(silver):
    good = payload_from_candles(silver)
    yield "missing", good.drop(columns=["volume"]), r"missing inputs \[.volume.\]"
    yield "too few", good.tail(10), "too few"
    yield "below min_candles", good.tail(169), "send at least 170"
    negative = good.copy()
    negative.loc[negative.index[-1], "low"] = -1.0
    yield "negative", negative, r"prices > 0"
    gappy = good.drop(index=good.index[-30])
    yield "unsorted", pd.concat([good.tail(5), good.head(-5)]), None  # sorted, then fine
    yield "gap", gappy, None


@pytest.mark.parametrize(
    "case", ["missing", "too few", "below min_candles", "negative", "unsorted", "gap"]
)
def test_payload_validation(served, case):
    silver, _, model = served
    _, payload, message = next(p for p in bad_payloads(silver) if p[0] == case)
    if message is None:
        assert len(model.predict(payload, params={"steps": 2})) == 2
        return
    with pytest.raises(MlflowException, match=message) as error:
        model.predict(payload, params={"steps": 1})
    assert error.value.get_http_status_code() == 400


def test_steps_beyond_max_horizon_are_refused(served):
    silver, _, model = served
    with pytest.raises(MlflowException, match="max_horizon=40") as error:
        model.predict(payload_from_candles(silver), params={"steps": 41})
    assert error.value.get_http_status_code() == 400
