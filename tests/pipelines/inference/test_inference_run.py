"""After a real training run: `kedro run --pipeline inference`, the registered pyfunc and a
real `mlflow models serve` process give one answer; bad input gets clear errors / HTTP 400."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.serving.payload import payload_from_candles

from conftest import DAILY_CANDLES, FOUR_HOUR_CANDLES, ONE_EPOCH, run_kedro
from support.modelling import PARAMS
from support.project import ServedModel, post_json, train_on_candles

pytestmark = pytest.mark.slow


def train(project: Path, source: Path, rows: int, tmp_path: Path, **params) -> None:
    train_on_candles(project, tmp_path, source, rows, **ONE_EPOCH, **params)
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")


def load_silver(project: Path) -> pd.DataFrame:
    return CandleCSVDataset(
        filepath=str(project / "data/02_intermediate/silver.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()


@pytest.fixture
def served_model(network_project: Path):
    """A trained project (network path on) and `mlflow models serve` of its staging
    pyfunc on 127.0.0.1."""
    with ServedModel(network_project, "models:/btc_candle_forecaster@staging") as url:
        yield network_project, f"{url}/invocations"


def test_inference_pyfunc_and_http_agree(served_model):
    project, url = served_model
    silver = load_silver(project)
    last = silver["open_time"].iloc[-1]
    target = (last + pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    run_kedro(project, "inference", params={"inference.target_date": target})

    table = pd.read_csv(project / "data/07_model_output/forecast.csv")
    assert len(table) == 10
    expected_times = [last + pd.Timedelta(days=k) for k in range(1, 11)]
    assert list(pd.to_datetime(table["open_time"], utc=True)) == expected_times
    assert set(table["model_alias"]) == {"staging"}
    version = mlflow.MlflowClient().get_model_version_by_alias("btc_forecaster", "staging")
    assert set(table["model_version"].astype(str)) == {str(version.version)}
    assert (table["lower_95"] < table["forecast_close"]).all()
    # The network path ran: with shrinkage off the forecast is not the last close.
    assert (table["forecast_close"] != silver["close"].iloc[-1]).all()
    assert (project / "data/08_reporting/forecast.png").stat().st_size > 10_000

    payload = payload_from_candles(silver)
    pyfunc = mlflow.pyfunc.load_model("models:/btc_candle_forecaster@staging")
    local = pyfunc.predict(payload, params={"target_date": target})
    np.testing.assert_allclose(local["forecast_close"], table["forecast_close"], rtol=1e-6)
    np.testing.assert_allclose(local["upper_80"], table["upper_80"], rtol=1e-6)

    # The fewest candles a client may send (modelling.registry.min_candles) give the
    # full-history answer: the indicators' averages have converged by then.
    fewest = PARAMS["registry"]["min_candles"]
    shortest = pyfunc.predict(payload.tail(fewest), params={"target_date": target})
    np.testing.assert_allclose(shortest["forecast_close"], table["forecast_close"], rtol=1e-6)
    np.testing.assert_allclose(shortest["lower_95"], table["lower_95"], rtol=1e-6)

    status, body = post_json(
        url,
        {
            "dataframe_split": payload.to_dict(orient="split", index=False),
            "params": {"target_date": target, "quantiles": [0.01, 0.05, 0.95, 0.99]},
        },
    )
    assert status == 200, body
    served = pd.DataFrame(body["predictions"])
    np.testing.assert_allclose(served["forecast_close"], table["forecast_close"], rtol=1e-6)
    # inference.quantiles (conf): the same quantile columns as a request asking for them
    quantiles = ["quantile_0.01", "quantile_0.05", "quantile_0.95", "quantile_0.99"]
    np.testing.assert_allclose(served[quantiles], table[quantiles], rtol=1e-6)
    assert (np.diff(table[quantiles].to_numpy(), axis=1) > 0).all()
    risk = pd.read_csv(project / "data/07_model_output/risk.csv")
    assert list(risk["level"]) == [0.95, 0.99]
    assert (risk["expected_shortfall"] >= risk["value_at_risk"]).all()
    # the 95% VaR is the 5% quantile's loss
    loss = -np.log(table["quantile_0.05"].iloc[0] / silver["close"].iloc[-1])
    assert risk["value_at_risk"].iloc[0] == pytest.approx(loss, rel=1e-6)
    assert list(pd.to_datetime(served["open_time"], utc=True)) == expected_times

    # Malformed payloads: HTTP 400 with the reason, no stack trace.
    short = payload.tail(20)
    for body, reason in [
        (
            {
                "dataframe_split": payload.drop(columns=["close"]).to_dict(
                    orient="split", index=False
                )
            },
            "close",
        ),
        ({"dataframe_split": short.to_dict(orient="split", index=False)}, "too few"),
        (
            {"dataframe_split": payload.assign(open="abc").to_dict(orient="split", index=False)},
            "open",
        ),
        (
            {
                "dataframe_split": payload.to_dict(orient="split", index=False),
                "params": {"target_date": "someday"},
            },
            "not a date",
        ),
        (  # one candle at -8999999942400000 ms: ~1e8 candles to gap-fill, refused at once
            {
                "dataframe_split": pd.concat(
                    [payload.head(1).assign(open_time=-8999999942400000), payload]
                ).to_dict(orient="split", index=False)
            },
            "request row 0: open_time -8999999942400000 is not a time",
        ),
        (
            {
                "dataframe_split": payload.to_dict(orient="split", index=False),
                "params": {"steps": 0},
            },
            "steps=0",
        ),
        # issue 22: over HTTP, MLflow's input schema cast open_time to int64 (a fraction
        # truncated) and reported a duplicated column as missing; params it dropped
        (
            {
                "dataframe_split": payload.astype({"open_time": "float64"})
                .assign(open_time=lambda f: f["open_time"] + 0.5)
                .to_dict(orient="split", index=False)
            },
            "is not a whole number of milliseconds",
        ),
        (
            {
                "dataframe_split": {
                    "columns": [*payload.columns, "volume"],
                    "data": payload.assign(again=payload["volume"]).values.tolist(),
                }
            },
            "['volume'] are sent more than once",
        ),
        (
            {
                "dataframe_split": payload.to_dict(orient="split", index=False),
                "params": {"stepz": 3},
            },
            "unknown param(s) ['stepz']",
        ),
        (
            {
                "dataframe_split": payload.to_dict(orient="split", index=False),
                "params": {"steps": 3, "target_date": target},
            },
            "were sent; send one",
        ),
    ]:
        status, answer = post_json(url, body)
        assert status == 400, (reason, status, answer)
        assert reason in answer["message"]
        assert "Traceback" not in json.dumps(answer)

    # A run killed between alias moves leaves the three models' aliases apart: inference
    # refuses to guess which network goes with which scaler.
    mlflow.MlflowClient().delete_registered_model_alias("btc_scaler", "staging")
    with pytest.raises(ValueError, match=r"Model Registry is split: .*btc_scaler@staging = none"):
        run_kedro(project, "inference", params={"inference.target_date": target})


def test_inference_before_any_training_names_the_fix(kedro_project):
    with pytest.raises(ValueError, match=r"No 'btc_forecaster' with alias 'staging'.*training"):
        run_kedro(kedro_project, "inference")


def test_inference_bad_input_is_a_clear_error(network_project):
    last = load_silver(network_project)["open_time"].iloc[-1]
    for params, message in [
        ({"inference.target_date": str(last.date())}, "not after the last candle"),
        ({"inference.target_date": "2017-01-01"}, "not after the last candle"),
        (
            {"inference.target_date": "31/31/2031"},
            r"inference.target_date=.31/31/2031.: must be a date",
        ),
        ({"inference.target_date": str((last + pd.Timedelta(days=400)).date())}, "max_horizon=365"),
        ({"inference.model_alias": "production"}, r"alias 'production'.*aliases \['staging'\]"),
        ({"inference.model_alias": "champion"}, r"'champion' is granted by the backtest's"),
        ({"inference.target_date": "NaT"}, r"inference.target_date=.NaT.: must be a date"),
    ]:
        with pytest.raises(ValueError, match=message):
            run_kedro(network_project, "inference", params=params)


def test_four_hour_forecast_dates(kedro_project, tmp_path):
    train(kedro_project, FOUR_HOUR_CANDLES, 900, tmp_path, **{"data_engineering.interval": "4h"})
    # A 4h model does not forecast from daily candles.
    daily = tmp_path / "daily.csv"
    pd.read_csv(DAILY_CANDLES, nrows=300).to_csv(daily, index=False)
    bronze = kedro_project / "data/01_raw/bronze.csv"
    bronze.unlink()  # one interval per bronze file
    run_kedro(
        kedro_project,
        "data_engineering",
        env="offline",
        params={"data_engineering.dump_path": str(daily)},
    )
    with pytest.raises(ValueError, match="silver holds 1d candles but .* trained on 4h"):
        run_kedro(kedro_project, "inference")
    bronze.unlink()
    run_kedro(
        kedro_project,
        "data_engineering",
        env="offline",
        params={
            "data_engineering.dump_path": str(tmp_path / f"slice_900_{FOUR_HOUR_CANDLES.name}"),
            "data_engineering.interval": "4h",
        },
    )
    last = load_silver(kedro_project)["open_time"].iloc[-1]
    target = (last + pd.Timedelta(days=2)).isoformat()
    run_kedro(kedro_project, "inference", params={"inference.target_date": target})
    table = pd.read_csv(kedro_project / "data/07_model_output/forecast.csv")
    assert list(pd.to_datetime(table["open_time"], utc=True)) == [
        last + pd.Timedelta(hours=4 * k) for k in range(1, 13)
    ]


def test_two_workers_answer_concurrent_clients_alike(network_project: Path):
    # `mlflow models serve --workers 2` (docs/benchmarks.md: one worker per core): 12 clients at once
    # get the same forecast, each a 200.
    payload = payload_from_candles(load_silver(network_project).tail(600))
    body = {"dataframe_split": payload.to_dict(orient="split", index=False), "params": {"steps": 3}}
    served = ServedModel(network_project, "models:/btc_candle_forecaster@staging", workers=2)
    with served as url, ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: post_json(f"{url}/invocations", body), range(12)))
    assert [status for status, _ in answers] == [200] * 12
    closes = {tuple(row["forecast_close"] for row in a["predictions"]) for _, a in answers}
    assert len(closes) == 1
    assert payload["close"].iloc[-1] not in next(iter(closes))  # the network's own forecast
