"""`kedro run --env server` against a real `mlflow server` started on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from support.modelling import FAST_PARAMS, run_pipeline, write_gold
from support.project import TRACKING_SERVER_ENVIRONMENT, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path: Path):
    """docs/modelling.md's command: mlflow server --backend-store-uri ... --default-artifact-root
    ... --host 127.0.0.1 --port <free port>, one worker; yields its URL."""
    port = free_port()
    store = tmp_path / "server"
    store.mkdir()
    log = (store / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow-server.db'}",
            "--default-artifact-root",
            str(store / "mlflow-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **TRACKING_SERVER_ENVIRONMENT},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # MLflow migrates the new store first; slow under load
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{(store / 'server.log').read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        # The server and its uvicorn worker: the process group this fixture started.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_server_env_logs_and_registers_on_a_tracking_server(kedro_project, mlflow_server):
    # conf/server/mlflow.yml of the temp copy points at this test's server port.
    (kedro_project / "conf/server/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: {mlflow_server}\n"
    )
    write_gold(kedro_project, 760)
    (kedro_project / "mlflow.db").unlink()  # the copy's empty store: none may be made

    run_pipeline(kedro_project, "modelling", env="server", params=FAST_PARAMS)

    assert not (kedro_project / "mlflow.db").exists()  # nothing went to the sqlite default
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("Bitcoin_Forecasting")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert np.isfinite(run.data.metrics["test.rmse_ratio_to_naive"])
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"plots", "reporting"}
    staging = client.get_model_version_by_alias("btc_forecaster", "staging")
    assert staging.run_id == run.info.run_id
    assert client.get_model_version_by_alias("btc_scaler", "staging").run_id == run.info.run_id

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(mlflow_server)
    try:
        model = mlflow.pyfunc.load_model("models:/btc_forecaster@staging")
        scaler = mlflow.sklearn.load_model("models:/btc_scaler@champion")
    finally:
        mlflow.set_tracking_uri(previous)
    spec = model.metadata.metadata
    window = np.zeros((1, spec["n_timesteps"], len(spec["scaler_columns"])), dtype="float32")
    assert model.predict(window).shape == (1, spec["horizon"])
    example = pd.DataFrame([[1.0] * len(spec["scaler_columns"])], columns=spec["scaler_columns"])
    assert scaler.transform(example).shape == (1, len(spec["scaler_columns"]))
