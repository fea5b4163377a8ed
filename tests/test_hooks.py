"""Project hooks in real `kedro run` sessions: a secret passed as a parameter stops the run
before MLflow (or anything else) records it; a run killed with -9 is marked FAILED at the
next start."""

from __future__ import annotations

import gzip
import subprocess
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from conftest import DAILY_CANDLES, run_kedro
from support.modelling import write_gold
from support.project import BIN, link_source

pytestmark = pytest.mark.slow  # real kedro runs / network training

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "name",
    [
        "data_engineering.api_key",
        "modelling.mlflow_token",
        "data_engineering.access_key",
        "data_engineering.api-key",
        "data_engineering.passphrase",
    ],
)
def test_a_secret_parameter_stops_the_run_before_anything_is_stored(kedro_project: Path, name):
    with pytest.raises(ValueError, match=rf"{name} look like secrets.*credentials.yml"):
        run_kedro(kedro_project, "training", env="offline", params={name: SECRET})
    stored = [p for p in kedro_project.rglob("*") if p.is_file() and "snapshot" not in p.parts]
    assert all(SECRET.encode() not in path.read_bytes() for path in stored)


def test_an_empty_secret_like_parameter_is_allowed(kedro_project: Path):
    # the key itself lives in conf/local/credentials.yml
    run_kedro(
        kedro_project,
        "data_engineering",
        env="offline",
        params={"data_engineering.api_key": ""},
    )
    assert (kedro_project / "data/02_intermediate/silver.csv").exists()


def test_a_killed_run_is_marked_failed_at_the_next_start(kedro_project: Path, tmp_path: Path):
    dump = tmp_path / "daily.csv"
    with gzip.open(DAILY_CANDLES, "rt") as source:
        dump.write_text("".join(line for _, line in zip(range(801), source)))
    params = f"data_engineering.dump_path={dump},modelling.verbose=0"
    link_source(kedro_project)  # `kedro run` in a subprocess wants the project's src/
    # The store's tables are made before the run starts: two processes creating them at
    # once race, and the loser (either one) fails.
    client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project / 'mlflow.db'}")
    client.search_experiments()
    log = tmp_path / "killed_run.log"
    with log.open("w") as output:
        killed = subprocess.Popen(
            [str(BIN / "kedro"), "run", "--pipelines", "training", "--env", "offline"]
            + ["--params", f"{params},modelling.epochs=500"],
            cwd=kedro_project,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline, run = time.monotonic() + 180, None
    while run is None and time.monotonic() < deadline and killed.poll() is None:
        time.sleep(1)
        experiment = client.get_experiment_by_name("Bitcoin_Forecasting")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        run = next((r for r in runs if r.data.tags.get("pid") == str(killed.pid)), None)
    killed.kill()  # SIGKILL: no hook, no finally, the run stays RUNNING
    killed.wait()
    assert run is not None, f"the run never showed as RUNNING:\n{log.read_text()[-3000:]}"
    assert run.info.status == "RUNNING"
    assert client.get_run(run.info.run_id).info.status == "RUNNING"

    run_kedro(
        kedro_project,
        "training",
        env="offline",
        params={"data_engineering.dump_path": str(dump), "modelling.epochs": 1},
    )
    after = client.get_run(run.info.run_id)
    assert after.info.status == "FAILED"
    assert f"process {killed.pid} ended without closing the run" in after.data.tags["failure"]


def files_of(project: Path) -> dict[str, tuple[int, int]]:
    """Every file of the project (size and modification time), MLflow's store aside."""
    return {
        str(path.relative_to(project)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in project.rglob("*")
        if path.is_file() and path.name != "mlflow.db"
    }


@pytest.mark.parametrize(
    ("pipeline", "params", "messages"),
    [
        (
            "training",
            {"modelling.batch_size": 0, "modelling.epochs": 0, "modelling.learning_rate": -1},
            [
                "modelling.batch_size=0: Input should be greater than or equal to 1",
                "modelling.epochs=0",
                "modelling.learning_rate=-1: Input should be greater than 0",
            ],
        ),
        ("training", {"modelling.split.test": "notadate"}, ["modelling.split.test='notadate'"]),
        ("modelling", {"modelling.target": "price"}, ["modelling.target='price': Input should"]),
        ("inference", {"inference.target_date": "NaT"}, ["inference.target_date='NaT'"]),
        ("backtest", {"backtest.window": "rolling"}, ["backtest.window='rolling'"]),
    ],
)
def test_wrong_parameters_are_named_before_the_run_starts(
    kedro_project, pipeline, params, messages
):
    # Inputs every pipeline can start from (gold for modelling and the backtest), so a
    # node that ran would have written something.
    write_gold(kedro_project, 900)
    before = files_of(kedro_project)
    with pytest.raises(ValueError, match=r"parameter\(s\) are wrong") as error:
        run_kedro(kedro_project, pipeline, env="offline", params=params)
    for message in messages:
        assert message in str(error.value)
    assert files_of(kedro_project) == before  # no node ran: nothing written or touched
    if (kedro_project / "mlflow.db").exists():  # and nothing recorded
        client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project / 'mlflow.db'}")
        experiments = [e.experiment_id for e in client.search_experiments()]
        assert client.search_runs(experiments) == []
