"""kill -9 between two alias moves of a real registration: readers refuse the split
registry, naming the versions, and the next training repairs it (and marks the killed run
FAILED) before registering its own versions."""

from __future__ import annotations

import gzip
import logging
import os
import signal
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.registry.aliases import split_alias

from conftest import DAILY_CANDLES, ONE_EPOCH, run_kedro
from support.project import BIN, link_source

NAMES = {"model": "btc_forecaster", "scaler": "btc_scaler", "serving": "btc_candle_forecaster"}
FAULTS = Path(__file__).resolve().parents[1] / "support" / "fault_injection"


def staging(client: MlflowClient) -> dict[str, str]:
    return {
        role: str(client.get_model_version_by_alias(name, "staging").version)
        for role, name in NAMES.items()
    }


@pytest.mark.slow
def test_a_run_killed_between_alias_moves_is_refused_then_repaired(
    trained_project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    dump = tmp_path / "daily.csv"
    with gzip.open(DAILY_CANDLES, "rt") as source:
        dump.write_text("".join(line for _, line in zip(range(901), source)))
    params = {"data_engineering.dump_path": str(dump), **ONE_EPOCH}
    # trained_project holds v1 of all three (trained once per session)
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_project / 'mlflow.db'}")
    assert staging(client) == {"model": "1", "scaler": "1", "serving": "1"}

    link_source(trained_project)  # `kedro run` in a subprocess wants the project's src/
    killed = subprocess.run(
        [str(BIN / "kedro"), "run", "--pipelines", "training", "--env", "offline", "--params"]
        + [",".join(f"{key}={value}" for key, value in params.items())],
        cwd=trained_project,
        env={
            **os.environ,
            "PYTHONPATH": str(FAULTS),
            "CRYPTOPYTHIA_KILL_AFTER_ALIAS_MOVES": "1",  # the network's alias, not the others
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    # Killed exactly between two moves: v2 of all three registered, only one alias moved.
    assert staging(client) == {"model": "2", "scaler": "1", "serving": "1"}
    assert client.get_model_version("btc_forecaster", "2").tags["scaler_version"] == "2"
    runs = client.search_runs([client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id])
    (killed_run,) = [run for run in runs if run.info.status == "RUNNING"]

    with pytest.raises(ValueError, match="The Model Registry is split") as refused:
        run_kedro(trained_project, "inference", env="offline")
    assert "btc_forecaster@staging = v2, btc_scaler@staging = v1" in str(refused.value)

    # The session's logging config replaces the root's handlers (caplog's among them).
    aliases_logger = logging.getLogger("cryptopythia.registry.aliases")
    aliases_logger.addHandler(caplog.handler)
    try:
        run_kedro(trained_project, "training", env="offline", params=params)
    finally:
        aliases_logger.removeHandler(caplog.handler)
    assert "Repaired the split alias 'staging'" in caplog.text
    assert staging(client) == {"model": "3", "scaler": "3", "serving": "3"}
    assert split_alias(client, NAMES, "staging") is None
    assert client.get_run(killed_run.info.run_id).info.status == "FAILED"
    run_kedro(trained_project, "inference", env="offline")  # readers take it again
    forecast = trained_project / "data" / "07_model_output" / "forecast.csv"
    assert "btc_forecaster,3,staging,3" in forecast.read_text()
