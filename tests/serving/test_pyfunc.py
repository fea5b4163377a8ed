"""The registered pyfunc: candles in, the inference forecast out; bad payloads are 400s."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LinearRegression

from cryptopythia.model.artifacts import SCALER_TYPES
from cryptopythia.model.forecaster import forecast
from cryptopythia.serving.payload import payload_from_candles
from cryptopythia.serving.pyfunc import log_candle_forecaster

from support.bad_payloads import bad_payloads
from support.forecasters import make_forecaster, make_silver
from support.mlflow_store import temp_mlflow_store

LIMITS = {
    "max_horizon": 40,
    "min_candles": 170,
    "max_candles": 240,
    "max_gap_candles": 5,
    "max_request_rows": 600,
    "max_quantiles": 20,
}
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """(silver, forecaster, model info) of a pyfunc logged to a real sqlite MLflow store
    and registered as btc_candle_forecaster v1."""
    silver = make_silver(260)
    forecaster = make_forecaster(silver)
    with temp_mlflow_store(tmp_path_factory.mktemp("mlflow"), "pyfunc"):
        with mlflow.start_run():
            info = log_candle_forecaster(forecaster, "btc_candle_forecaster", silver, LIMITS)
        mlflow.register_model(info.model_uri, "btc_candle_forecaster")
        yield silver, forecaster, info


@pytest.fixture(scope="module")
def served(logged):
    """(silver, forecaster, pyfunc loaded back from the store)."""
    silver, forecaster, info = logged
    return silver, forecaster, mlflow.pyfunc.load_model(info.model_uri)


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


CASES = [
    "missing",
    "too few",
    "below min_candles",
    "negative",
    "high < close",
    "infinite",
    "ancient",
    "1970",
    "long gap",
    "off grid",
    "twins",
    "unsorted",
    "gap",
    "repeated",
    "empty",
    "repeats leave too few",
    "duplicated column",
    "fractional open_time",
    "flat",
    "close never moves",
    "huge prices",
    "too many rows",
]

# What a served client must never read: the pipelines' vocabulary instead of its request's.
PIPELINE_WORDS = (
    "bronze",
    "silver",
    "--params",
    "inference.",
    "invalid_rows",
    "kedro",
    "data_engineering",
)


@pytest.mark.parametrize("case", CASES)
def test_payload_validation(served, case):
    silver, _, model = served
    _, payload, message = next(p for p in bad_payloads(silver) if p[0] == case)
    if message is None:
        assert len(model.predict(payload, params={"steps": 2})) == 2
        return
    with pytest.raises(MlflowException, match=message) as error:
        model.predict(payload, params={"steps": 1})
    assert error.value.get_http_status_code() == 400
    assert not [word for word in PIPELINE_WORDS if word in str(error.value)]


def test_only_the_latest_max_candles_are_read(served):
    silver, _, model = served
    good = payload_from_candles(silver)
    expected = model.predict(good, params={"steps": 3})
    # a candle 1,000 days before the others is beyond the latest max_candles=240 rows: it
    # is neither gap-filled (1,000 candles of work) nor refused, and changes nothing
    early = good.head(1).assign(open_time=good["open_time"].iloc[0] - 1000 * DAY_MS)
    answer = model.predict(pd.concat([early, good]), params={"steps": 3})
    pd.testing.assert_frame_equal(answer, expected)


@pytest.mark.parametrize("steps", [0, -2, 1.5, "three"])
def test_steps_must_be_a_whole_number_from_one(served, steps):
    silver, _, model = served
    with pytest.raises(MlflowException, match=r"steps") as error:
        model.predict(payload_from_candles(silver), params={"steps": steps})
    assert error.value.get_http_status_code() == 400


def test_steps_beyond_max_horizon_are_refused(served):
    silver, _, model = served
    with pytest.raises(MlflowException, match="max_horizon=40") as error:
        model.predict(payload_from_candles(silver), params={"steps": 41})
    assert error.value.get_http_status_code() == 400


def test_far_target_date_names_the_latest_allowed(served):
    silver, _, model = served
    last = silver["open_time"].iloc[-1]
    latest = (last + pd.Timedelta(days=40)).strftime("%Y-%m-%d")
    with pytest.raises(MlflowException) as error:
        model.predict(payload_from_candles(silver), params={"target_date": "2999-01-01"})
    message = str(error.value)
    assert error.value.get_http_status_code() == 400
    assert "target_date='2999-01-01'" in message
    assert f"latest target_date allowed is {latest}" in message and "steps=40" in message
    assert "steps=3" not in message  # not the hundreds of thousands of candles to 2999


@pytest.mark.parametrize(
    ("target_date", "message"),
    [
        ("someday", r"target_date='someday' is not a date; send YYYY-MM-DD"),
        ("NaT", r"target_date='NaT' is not a date"),
        ("2001-01-01", r"target_date='2001-01-01' is not after the last candle sent"),
    ],
)
def test_bad_target_date_is_worded_for_the_client(served, target_date, message):
    silver, _, model = served
    with pytest.raises(MlflowException, match=message) as error:
        model.predict(payload_from_candles(silver), params={"target_date": target_date})
    assert not [word for word in PIPELINE_WORDS if word in str(error.value)]


def test_steps_and_target_date_together_are_refused(served):
    silver, _, model = served
    target = str((silver["open_time"].iloc[-1] + pd.Timedelta(days=5)).date())
    with pytest.raises(
        MlflowException, match=r"both steps=3 and target_date=.* were sent; send one"
    ) as error:
        model.predict(payload_from_candles(silver), params={"steps": 3, "target_date": target})
    assert error.value.get_http_status_code() == 400


def test_unknown_params_are_refused_by_name(served):
    silver, _, model = served
    with pytest.raises(
        MlflowException,
        match=r"unknown param\(s\) \['horizon', 'stepz'\].*steps, target_date, quantiles",
    ) as error:
        model.predict(payload_from_candles(silver), params={"stepz": 3, "horizon": 2})
    assert error.value.get_http_status_code() == 400


def test_default_is_one_step(served):
    silver, _, model = served
    assert list(model.predict(payload_from_candles(silver))["step"]) == [1]


def model_copy(logged, tmp_path, spoil) -> str:
    """A local copy of the logged pyfunc with ``spoil(artifacts folder)`` applied."""
    folder = mlflow.artifacts.download_artifacts(logged[2].model_uri, dst_path=str(tmp_path))
    spoil(Path(folder) / "artifacts")
    return folder


def foreign_scaler(artifacts: Path) -> None:
    scaler = skops.io.load(artifacts / "scaler.skops", trusted=list(SCALER_TYPES))
    scaler.extra = LinearRegression()  # a type skops trusts by default; this project not
    skops.io.dump(scaler, artifacts / "scaler.skops")


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda a: (a / "scaler.skops").unlink(), r"its scaler file scaler.skops is missing"),
        (
            lambda a: (a / "network.keras").write_bytes(b""),
            r"its network file network.keras is empty \(0 bytes\)",
        ),
        (
            foreign_scaler,
            r"holds the type\(s\) \['sklearn.linear_model._base.LinearRegression'\]",
        ),
    ],
)
def test_a_broken_model_file_names_the_file_and_the_version(logged, tmp_path, spoil, problem):
    folder = model_copy(logged, tmp_path, spoil)
    with pytest.raises(Exception, match=problem) as error:
        mlflow.pyfunc.load_model(folder)
    assert "btc_candle_forecaster v1" in str(error.value)
    assert "register" in str(error.value)


def test_quantiles_param_gives_one_column_per_level(served):
    silver, forecaster, model = served
    levels = [0.05, 0.5, 0.99, 0.2]
    answer = model.predict(payload_from_candles(silver), params={"steps": 5, "quantiles": levels})
    expected = forecast(silver, forecaster, 5, levels)
    columns = ["quantile_0.05", "quantile_0.5", "quantile_0.99", "quantile_0.2"]
    assert list(answer.columns[-4:]) == columns
    np.testing.assert_allclose(answer[columns], expected[columns], rtol=1e-6)
    ordered = answer[["quantile_0.05", "quantile_0.2", "quantile_0.5", "quantile_0.99"]]
    assert np.all(np.diff(ordered.to_numpy(), axis=1) >= 0)
    assert "quantile_0.05" not in model.predict(payload_from_candles(silver)).columns


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([0.0, 0.5], r"the level 0.0 is not strictly between 0 and 1"),
        ([0.5, 1], r"the level 1.0 is not strictly between 0 and 1"),
        ([1.5], r"the level 1.5 is not strictly between 0 and 1"),
        ([float("nan")], r"the level nan is not strictly between 0 and 1"),
        ([0.1, 0.1], r"the level 0.1 is asked for twice"),
        ([0.01] * 21, r"quantiles holds 21 levels; at most 20"),
        (["a"], r"quantiles"),  # MLflow's params check: not a double
        (0.5, r"quantiles"),  # not a list
    ],
)
def test_bad_quantile_levels_are_400s_with_the_reason(served, levels, message):
    silver, _, model = served
    with pytest.raises(MlflowException, match=message) as error:
        model.predict(payload_from_candles(silver), params={"quantiles": levels})
    assert error.value.get_http_status_code() == 400
