"""`pairs` lists: every pipeline once per pair, in its namespace, with its own files, runs
and registered models, and a table across pairs (real Kedro sessions, real MLflow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from mlflow import MlflowClient

from conftest import DAILY_CANDLES, FOUR_HOUR_CANDLES, run_kedro
from support.fake_binance import make_klines, point_catalog_at
from support.pairs import list_pairs

pytestmark = pytest.mark.slow

FAST = {"modelling.epochs": 2}
LIVE = {
    "data_engineering.start_date": "2015-01-01",
    "data_engineering.fetch.backoff_seconds": 0.01,
    "data_engineering.fetch.max_tries": 2,
}


def registered_versions(project, name: str) -> list[str]:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    return sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))


def test_two_pairs_from_binance_train_register_and_compare(kedro_project, fake_binance):
    point_catalog_at(kedro_project, fake_binance)
    fake_binance.symbols = {
        "ETHUSDT": {"1d": make_klines(900, "1d", seed=1)},
        "SOLUSDT": {"1d": make_klines(900, "1d", seed=2)},
    }
    list_pairs(kedro_project, "local", ["ETHUSDT", "SOLUSDT"], ["1d"])

    run_kedro(kedro_project, "training", params={**FAST, **LIVE})

    data = kedro_project / "data"
    assert not (data / "01_raw" / "bronze.csv").exists()  # the single pair's file: untouched
    for namespace, symbol, seed in (("ethusdt_1d", "ETHUSDT", 1), ("solusdt_1d", "SOLUSDT", 2)):
        sidecar = json.loads(
            (data / "01_raw" / "pairs" / namespace / "bronze.csv.meta.json").read_text()
        )
        assert (sidecar["symbol"], sidecar["interval"]) == (symbol, "1d")
        silver = pd.read_csv(data / "02_intermediate" / "pairs" / namespace / "silver.csv")
        served = make_klines(900, "1d", seed=seed)
        assert len(silver) == 900
        assert silver["close"].iloc[-1] == pytest.approx(
            float(served[-2][4])
        )  # open candle dropped
        assert registered_versions(kedro_project, f"{namespace}_forecaster") == [1]
        assert registered_versions(kedro_project, f"{namespace}_scaler") == [1]
        assert registered_versions(kedro_project, f"{namespace}_candle_forecaster") == [1]
        report = json.loads(
            (data / "08_reporting" / "pairs" / namespace / "metrics.json").read_text()
        )
        assert report["spec"]["interval"] == "1d"
    assert registered_versions(kedro_project, "btc_forecaster") == []

    summary = pd.read_csv(data / "08_reporting" / "pairs_training_summary.csv")
    assert sorted(summary["pair"]) == ["ethusdt_1d", "solusdt_1d"]
    assert summary["rmse_ratio_to_naive"].between(0.5, 2.0).all()
    client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project / 'mlflow.db'}")
    [run] = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], max_results=1
    )
    assert "pairs.test.ethusdt_1d.rmse_ratio_to_naive" in run.data.metrics
    assert run.data.params["solusdt_1d.data_engineering.symbol"] == "SOLUSDT"

    # The backtest and the inference, once per pair, each from that pair's registry names.
    backtest = {"backtest.n_origins": 8, "backtest.refit_every": 8, "backtest.horizon": 3}
    run_kedro(kedro_project, "backtest", params={**FAST, **backtest, "backtest.epochs": 1})
    table = pd.read_csv(data / "08_reporting" / "pairs_backtest_summary.csv")
    assert sorted(table["pair"]) == ["ethusdt_1d", "solusdt_1d"]
    assert table["rmse_ratio_to_naive"].notna().all()
    for namespace in ("ethusdt_1d", "solusdt_1d"):
        gate = json.loads((data / "08_reporting" / "pairs" / namespace / "gate.json").read_text())
        assert gate["promoted"] is False  # 8 origins, 1 epoch: the gate refuses
    run_kedro(kedro_project, "inference", params={"inference.default_steps": 3})
    for namespace in ("ethusdt_1d", "solusdt_1d"):
        forecast = pd.read_csv(data / "07_model_output" / "pairs" / namespace / "forecast.csv")
        assert len(forecast) == 3
    eth_last = pd.read_csv(data / "02_intermediate" / "pairs" / "ethusdt_1d" / "silver.csv")[
        "close"
    ].iloc[-1]
    eth_forecast = pd.read_csv(data / "07_model_output" / "pairs" / "ethusdt_1d" / "forecast.csv")
    assert eth_forecast["forecast_close"].iloc[0] == pytest.approx(eth_last, rel=0.2)

    # One pair alone: only its candles are asked for.
    fake_binance.requests.clear()
    run_kedro(kedro_project, "data_engineering", params=LIVE, namespaces=["solusdt_1d"])
    assert {r["symbol"] for r in fake_binance.kline_requests} <= {"SOLUSDT"}


def test_real_daily_and_4h_btc_as_two_pairs_offline(kedro_project, tmp_path):
    """`kedro run --pipeline training --env offline` with a two-pair list trains and
    registers both: the real snapshot's daily and 4-hour candles."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    pd.read_csv(DAILY_CANDLES, nrows=900).to_csv(dumps / "btcusdt_1d.csv", index=False)
    pd.read_csv(FOUR_HOUR_CANDLES, nrows=1500).to_csv(dumps / "btcusdt_4h.csv", index=False)
    list_pairs(
        kedro_project, "offline", ["BTCUSDT"], ["1d", "4h"], dump_path=f"{dumps}/{{pair}}.csv"
    )

    run_kedro(kedro_project, "training", env="offline", params=FAST)

    for namespace in ("btcusdt_1d", "btcusdt_4h"):
        assert registered_versions(kedro_project, f"{namespace}_forecaster") == [1]
    gold_4h = pd.read_csv(
        kedro_project / "data" / "03_primary" / "pairs" / "btcusdt_4h" / "gold.csv"
    )
    assert (pd.to_datetime(gold_4h["open_time"]).diff().dropna() == pd.Timedelta(hours=4)).all()
    summary = pd.read_csv(kedro_project / "data" / "08_reporting" / "pairs_training_summary.csv")
    assert sorted(summary["interval"]) == ["1d", "4h"]
    # Each pair's silver and gold are recorded as MLflow dataset inputs of the run.
    client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id
    (run,) = client.search_runs([experiment])
    inputs = {i.dataset.name: i.dataset.source for i in run.inputs.dataset_inputs}
    for namespace in ("btcusdt_1d", "btcusdt_4h"):
        assert {f"{namespace}.silver", f"{namespace}.gold"} <= inputs.keys()
        assert f"pairs/{namespace}/gold.csv" in inputs[f"{namespace}.gold"]


def test_a_listed_pair_never_reads_a_dump_that_does_not_name_it(kedro_project):
    """`--env offline` reads the BTCUSDT snapshot by default: a listed ETHUSDT pair without
    pairs.dump_path stops, naming the pair and the fix, instead of storing BTC as ETH."""
    list_pairs(kedro_project, "offline", ["ETHUSDT"], ["1d"])
    with pytest.raises(
        ValueError, match=r"btcusdt_1d.csv.gz .*does not say it holds ETHUSDT.*pairs.dump_path"
    ):
        run_kedro(kedro_project, "data_engineering", env="offline")
    assert not list((kedro_project / "data" / "01_raw").rglob("bronze.csv"))
