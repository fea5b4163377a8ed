"""End-to-end runs: real KedroSessions, a real sqlite MLflow store and Model Registry."""

from __future__ import annotations

import gzip
import json
import socket
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.model.scaling import inverse_target, scale_table
from cryptopythia.model.shrinkage import shrink
from cryptopythia.model.spec import ModelSpec
from cryptopythia.model.table import model_table
from cryptopythia.model.targets import target_to_close
from cryptopythia.model.windows import window_view
from cryptopythia.registry import promotion

from conftest import DAILY_CANDLES
from support.modelling import (
    FAST_PARAMS,
    run_pipeline,
    write_gold,
)

pytestmark = pytest.mark.slow

EXPECTED_ARTIFACTS = {
    "model_spec/window_spec.json",
    "plots/model_loss_by_epoch.png",
    "plots/test_predictions.png",
    "predictions/test_predictions.csv",
    "reporting/metrics.json",
    "reporting/training_history.json",
}


@pytest.fixture
def client(kedro_project: Path):
    """An MlflowClient on the temp project's own sqlite store."""
    uri = f"sqlite:///{kedro_project / 'mlflow.db'}"  # conftest makes it absolute
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(previous)


def artifact_paths(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def reproduce_test_predictions(project: Path, alias: str) -> tuple[np.ndarray, np.ndarray]:
    """Forecast the test split again from gold with the registered pair, the way
    inference will; returns (reproduced, logged) USD closes."""
    model = mlflow.pyfunc.load_model(f"models:/btc_forecaster@{alias}")
    scaler = mlflow.sklearn.load_model(f"models:/btc_scaler@{alias}")
    metadata = model.metadata.metadata  # the window spec travels with the model
    spec = ModelSpec.from_dict(metadata)
    n_timesteps = spec.n_timesteps
    gold = CandleCSVDataset(
        filepath=str(project / "data/03_primary/gold.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()
    table = model_table(gold, spec)
    logged = pd.read_csv(project / "data/07_model_output/test_predictions.csv")
    logged = logged[logged["step"] == spec.horizon]
    first_origin = table.index[table["open_time"] == pd.Timestamp(logged["origin_time"].iloc[0])][0]
    test = table.iloc[first_origin - n_timesteps + 1 :].reset_index(drop=True)
    windows = window_view(scale_table(scaler, test, spec), n_timesteps, spec.horizon)
    raw = model.predict(np.ascontiguousarray(windows, dtype="float32"))
    targets = inverse_target(scaler, np.asarray(raw))
    last_close = test["close_usd"].to_numpy()[np.arange(len(windows)) + n_timesteps - 1]
    closes = target_to_close(targets, last_close, spec.target)
    closes = shrink(closes, last_close, np.asarray(metadata["shrinkage"]), spec.target)
    return closes[:, -1], logged["predicted_close"].to_numpy()


def test_training_offline_run_logs_registers_and_reproduces(kedro_project, client, tmp_path):
    dump = tmp_path / "btcusdt_1d_slice.csv"
    with gzip.open(DAILY_CANDLES, "rt") as source:
        dump.write_text("".join(line for _, line in zip(range(801), source)))

    run_pipeline(
        kedro_project,
        "training",
        env="offline",
        params={"data_engineering.dump_path": str(dump), **FAST_PARAMS},
    )

    experiment = client.get_experiment_by_name("Bitcoin_Forecasting")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "conv1d_lstm-log_return-n62-h7"
    params = run.data.params
    assert params["modelling.n_timesteps"] == "62"
    assert params["modelling.epochs"] == "2"
    assert params["modelling.layers.conv_filters"] == "[128, 256, 200, 150]"
    metrics = run.data.metrics
    for name in (
        "rmse",
        "mae",
        "mape",
        "r2",
        "directional_calls",
        "mase",
        "naive_rmse",
        "naive_mase",
        "rmse_ratio_to_naive",
    ):
        assert np.isfinite(metrics[f"test.{name}"]), name
    # a network shrunk to naive at step 1 calls no direction: no accuracy to score
    calls_direction = metrics["test.directional_calls"] > 0
    assert np.isfinite(metrics["test.directional_accuracy"]) == calls_direction
    assert len(client.get_metric_history(run.info.run_id, "epoch.val_loss")) == 2
    inputs = {i.dataset.name: i for i in run.inputs.dataset_inputs}  # mlflow.log_input
    assert {"gold"} <= set(inputs), inputs
    gold_tags = {tag.key: tag.value for tag in inputs["gold"].tags}
    gold = pd.read_csv(kedro_project / "data/03_primary/gold.csv", usecols=["open_time"])
    assert gold_tags["mlflow.data.context"] == "training"
    assert gold_tags["rows"] == str(len(gold))
    assert gold_tags["last_open_time"].startswith(gold["open_time"].iloc[-1][:10])
    source = json.loads(inputs["gold"].dataset.source)["uri"]
    assert source == str(kedro_project / "data/03_primary/gold.csv")
    assert artifact_paths(client, run.info.run_id) >= EXPECTED_ARTIFACTS

    report = json.loads((kedro_project / "data/08_reporting/metrics.json").read_text())
    assert report["test"]["rmse"] == pytest.approx(metrics["test.rmse"])
    assert report["test"]["rmse_ratio_to_naive"] == pytest.approx(
        report["test"]["rmse"] / report["test"]["naive_rmse"]
    )

    for name in ("btc_forecaster", "btc_scaler"):
        version = client.get_model_version_by_alias(name, "staging")
        assert version.run_id == run.info.run_id
        assert set(version.aliases) == {"staging", "champion"}  # the first model
    model_version = client.get_model_version_by_alias("btc_forecaster", "staging")
    assert model_version.tags["scaler_version"] == str(
        client.get_model_version_by_alias("btc_scaler", "staging").version
    )
    assert "first model" in model_version.tags["champion_decision"]

    reproduced, logged = reproduce_test_predictions(kedro_project, "staging")
    np.testing.assert_allclose(reproduced, logged, rtol=1e-6)


def test_champion_moves_only_when_the_test_rmse_beats_it(kedro_project, client):
    write_gold(kedro_project, 760)
    run_pipeline(kedro_project, "modelling", params=FAST_PARAMS)
    first = client.get_model_version_by_alias("btc_forecaster", "champion")
    # Make the champion unbeatable: the next run keeps staging only.
    client.set_model_version_tag("btc_forecaster", first.version, "test_rmse", "0.0")

    run_pipeline(kedro_project, "modelling", params={**FAST_PARAMS, "modelling.run_name": "again"})

    staging = client.get_model_version_by_alias("btc_forecaster", "staging")
    assert str(staging.version) == "2"
    assert str(client.get_model_version_by_alias("btc_forecaster", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("btc_scaler", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("btc_scaler", "staging").version) == "2"
    assert "not promoted" in staging.tags["champion_decision"]
    run = client.get_run(staging.run_id)
    assert run.info.run_name == "again"
    assert run.data.tags["champion_decision"] == staging.tags["champion_decision"]

    # A champion with a worse test RMSE is beaten.
    client.set_model_version_tag("btc_forecaster", first.version, "test_rmse", "1e12")
    promote, reason = promotion.champion_decision(
        client, "btc_forecaster", "champion", "rmse", float(staging.tags["test_rmse"])
    )
    assert promote and f"'champion' v{first.version}" in reason


def test_a_failed_registration_is_rolled_back(kedro_project, client):
    write_gold(kedro_project, 760)
    run_pipeline(kedro_project, "modelling", params=FAST_PARAMS)
    # "latest" is a reserved alias: the new versions are created, staging moves, then the
    # alias fails. A shorter test split makes the second run "better" on n_test_windows, so
    # that it is promoted whatever its RMSE (MLflow resolves "latest" to v1).
    with pytest.raises(mlflow.exceptions.MlflowException, match="'latest'.*reserved"):
        run_pipeline(
            kedro_project,
            "modelling",
            params={
                **FAST_PARAMS,
                "modelling.registry.champion_alias": "latest",
                "modelling.registry.champion_metric": "n_test_windows",
                "modelling.split.test": 0.12,
            },
        )

    for name in ("btc_forecaster", "btc_scaler"):
        versions = client.search_model_versions(f"name='{name}'")
        assert [str(v.version) for v in versions] == ["1"]
        for alias in ("staging", "champion"):  # staging was moved to v2, then back
            assert str(client.get_model_version_by_alias(name, alias).version) == "1"
    failed = client.search_runs(
        [client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id],
        order_by=["attributes.start_time DESC"],
    )[0]
    assert failed.info.status == "FAILED"


@pytest.mark.parametrize(
    ("gold_rows", "params", "message"),
    [
        (600, {"modelling.n_timesteps": 35}, "the minimum n_timesteps is 46"),
        (600, {"modelling.split.test": 0.01}, "The test part of the chronological split"),
        (
            600,
            {"modelling.split.validation": "2030-01-01", "modelling.split.test": 0.1},
            "The validation part",
        ),
        (80, {}, "fewer than one window"),
    ],
    ids=[
        "n_timesteps_too_small",
        "empty_test",
        "empty_validation",
        "gold_too_short",
    ],
)
def test_bad_input_fails_clearly_and_registers_nothing(
    kedro_project, client, gold_rows, params, message
):
    write_gold(kedro_project, gold_rows)
    with pytest.raises(ValueError, match=message):
        run_pipeline(kedro_project, "modelling", params={**FAST_PARAMS, **params})
    assert client.search_registered_models() == []
    (run,) = client.search_runs(
        [client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id]
    )
    assert run.info.status == "FAILED"
    assert not (kedro_project / "data/08_reporting/registration.json").exists()


def test_an_unreachable_tracking_server_is_a_clear_error(kedro_project):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (kedro_project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: http://127.0.0.1:{port}\n"
    )
    write_gold(kedro_project, 760)
    (kedro_project / "mlflow.db").unlink()  # the copy's empty store: none may be made
    # The project's hook checks the server before anything runs (MLflow itself would
    # retry a refused connection for minutes).
    with pytest.raises(RuntimeError, match=rf"127.0.0.1:{port} .*is unreachable.*Start it"):
        run_pipeline(kedro_project, "modelling", params=FAST_PARAMS)
    assert not (kedro_project / "data/06_models/btc_scaler.pkl").exists()
    assert not (kedro_project / "mlflow.db").exists()


def test_the_same_seed_trains_the_same_model(kedro_project):
    write_gold(kedro_project, 760)
    params = {
        **FAST_PARAMS,
        "modelling.deterministic": True,
        "modelling.precision": "float32",
        "modelling.registry.register": False,
        # the raw network: shrinkage would make both seeds' forecasts naive's
        "modelling.shrinkage.enabled": False,
    }
    report = kedro_project / "data/08_reporting/metrics.json"
    run_pipeline(kedro_project, "modelling", params=params)
    first = json.loads(report.read_text())["test"]
    run_pipeline(kedro_project, "modelling", params=params)
    assert json.loads(report.read_text())["test"] == first
    run_pipeline(kedro_project, "modelling", params={**params, "modelling.seed": 7})
    assert json.loads(report.read_text())["test"]["rmse"] != first["rmse"]
