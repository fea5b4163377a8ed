"""The Airflow DAGs of deploy/airflow: what kedro-airflow makes from the template and
conf/base/airflow.yml, the pipelines they run (read without importing Airflow), and the
daily DAG run by `airflow dags test` on a trained project (Airflow in its own venv)."""

from __future__ import annotations

import ast
import json
import sqlite3
import subprocess
from pathlib import Path

import jinja2
import pandas as pd
import pytest
import yaml
from slugify import slugify

from conftest import PROJECT_ROOT, run_kedro
from support.airflow import AIRFLOW_DIR, airflow_env, airflow_python

DAGS = AIRFLOW_DIR / "dags"
# kedro-airflow's file name per converted pipeline (default environment: local)
DAG_FILES = {"forecast": DAGS / "cryptopythia_forecast_dag.py"}
DAG_FILES["training"] = DAGS / "cryptopythia_training_dag.py"


def rendered(pipeline_name: str) -> str:
    """The DAG `kedro airflow create --pipelines <name> -j deploy/airflow/dag_template.j2`
    writes (kedro-airflow 0.11's Jinja set-up, with conf/base/airflow.yml's values)."""
    config = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "airflow.yml").read_text())
    loader = jinja2.FileSystemLoader(AIRFLOW_DIR)
    environment = jinja2.Environment(autoescape=True, loader=loader, lstrip_blocks=True)
    environment.filters["slugify"] = slugify
    values = {**config["default"], **config[pipeline_name]}
    return environment.get_template("dag_template.j2").render(
        dag_name="cryptopythia",
        env="local",
        pipeline_name=pipeline_name,
        package_name="cryptopythia",
        conf_source="",
        **values,
    )


def dag_summary(path: Path) -> dict:
    """dag_id, schedule, catchup, and the (task, pipeline, params) runs of a DAG file."""
    tree = ast.parse(path.read_text())
    runs = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RUNS"
    )
    call = next(
        item.context_expr
        for node in tree.body
        if isinstance(node, ast.With)
        for item in node.items
        if getattr(item.context_expr.func, "id", "") == "DAG"
    )
    keywords = {k.arg: k.value for k in call.keywords}
    return {
        "dag_id": ast.literal_eval(keywords["dag_id"]),
        "schedule": ast.literal_eval(keywords["schedule"]),
        "catchup": ast.literal_eval(keywords["catchup"]),
        "max_active_runs": ast.literal_eval(keywords["max_active_runs"]),
        "runs": ast.literal_eval(runs),
    }


@pytest.mark.parametrize("pipeline_name", sorted(DAG_FILES))
def test_the_committed_dags_are_what_kedro_airflow_makes_of_the_template(pipeline_name):
    assert DAG_FILES[pipeline_name].read_text() == rendered(pipeline_name), (
        "deploy/airflow/dags is stale: run `make airflow-dags`"
    )


def test_the_daily_and_weekly_dags_run_registered_pipelines_in_order():
    from cryptopythia.pipeline_registry import register_pipelines

    daily, weekly = (dag_summary(DAG_FILES[name]) for name in ("forecast", "training"))
    assert daily == {
        "dag_id": "cryptopythia_daily",
        "schedule": "15 0 * * *",  # after the daily candle closes at 00:00 UTC
        "catchup": False,
        "max_active_runs": 1,
        "runs": [
            ("forecast", "forecast", ""),
            ("inference_champion", "inference", "inference.model_alias=champion"),
            ("monitor", "monitor", ""),
        ],
    }
    assert weekly["dag_id"] == "cryptopythia_weekly" and weekly["catchup"] is False
    assert weekly["schedule"] == "30 1 * * 1"
    assert weekly["runs"] == [("training", "training", ""), ("backtest", "backtest", "")]
    registered = register_pipelines()
    assert {pipeline for _, pipeline, _ in daily["runs"] + weekly["runs"]} <= registered.keys()
    # the gate is part of the weekly backtest
    assert "gate_champion" in {n.name for n in registered["backtest"].nodes}
    # `make daily` (the systemd timer's) runs what the daily DAG runs
    recipe = (PROJECT_ROOT / "Makefile").read_text().split("\ndaily:")[1].split("\n\n")[0]
    for _, pipeline, params in daily["runs"]:
        assert f"--pipelines {pipeline}" + (f" --params {params}" if params else "") in recipe


@pytest.mark.slow  # an Airflow venv (built once per machine), three `kedro run`s
@pytest.mark.airflow  # make test-airflow (.ci/run runs it after make test)
def test_airflow_runs_the_daily_dag_on_a_trained_project(trained_project, tmp_path):
    from mlflow import MlflowClient

    from cryptopythia.datasets import CandleCSVDataset
    from cryptopythia.registry.aliases import move_alias

    from support.project import BIN, link_source

    python = airflow_python()
    link_source(trained_project)  # `kedro run` in a subprocess needs src/
    # the champion, as the weekly gate would grant it
    names = ("btc_forecaster", "btc_scaler", "btc_candle_forecaster")
    move_alias(MlflowClient(), {name: "1" for name in names}, "champion")
    # five past days in the ledger, so that the monitor has closed candles to score
    silver = trained_project / "data" / "02_intermediate" / "silver.csv"
    times = CandleCSVDataset(filepath=str(silver), datetime_columns=["open_time"]).load()[
        "open_time"
    ]
    run_kedro(
        trained_project,
        "replay",
        params={
            "replay.start": times.iloc[-5].date().isoformat(),
            "replay.end": times.iloc[-1].date().isoformat(),
        },
    )

    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    dag_file = home / "dags" / DAG_FILES["forecast"].name
    dag_file.symlink_to(DAG_FILES["forecast"])  # as docs/operations.md installs it
    env = airflow_env(
        home,
        CRYPTOPYTHIA_PROJECT=str(trained_project),
        CRYPTOPYTHIA_KEDRO=str(BIN / "kedro"),
        CRYPTOPYTHIA_RETRIES="0",  # a failure fails the test now, not after the retries
    )
    airflow = [str(python), "-m", "airflow"]
    subprocess.run(
        [*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600
    )
    done = subprocess.run(
        [*airflow, "dags", "test", "-f", str(dag_file)]
        + ["-c", json.dumps({"env": "offline"}), "cryptopythia_daily"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=tmp_path,
    )
    log = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, log
    with sqlite3.connect(home / "airflow.db") as metadata:
        states = dict(metadata.execute("SELECT task_id, state FROM task_instance").fetchall())
        (run_state,) = metadata.execute("SELECT state FROM dag_run").fetchone()
    assert states == {
        "forecast": "success",
        "inference_champion": "success",
        "monitor": "success",
    }, log
    assert run_state == "success"

    with sqlite3.connect(trained_project / "forecast_ledger.db") as connection:
        ledger = pd.read_sql("SELECT * FROM forecast_ledger", connection)
    live = ledger[ledger["made_by"] == "inference"]
    assert sorted(live["model_alias"].unique()) == ["champion", "staging"]
    assert live.groupby("model_alias").size().tolist() == [30, 30]
    assert live["sigma_log"].notna().all()
    report = json.loads((trained_project / "data/08_reporting/monitoring.json").read_text())
    assert [v["model_version"] for v in report["versions"]] == ["1"]
