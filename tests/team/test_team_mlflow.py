"""`kedro run --env team` against a real team MLflow: `mlflow server` on PostgreSQL (the
pgserver wheel) with its artifacts in S3 (moto's server), proxied (--serve-artifacts).

The copy's conf/team/mlflow.yml is the project's, its address pointed at this test's
server; the copy's conf/team also gets conf/offline's data_engineering parameters (read
the shipped candles, not Binance): Kedro takes one --env, and the team env carries only
mlflow.yml. The client (this process, `mlflow models serve`) has no S3 variable at all."""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.registry.aliases import forecaster_names
from cryptopythia.serving.payload import payload_from_candles

from conftest import DAILY_CANDLES, ONE_EPOCH, copy_project, run_kedro
from support.modelling import PARAMS
from support.project import ServedModel, post_json
from support.team_services import (
    CLIENT_FREE_VARIABLES,
    MotoS3,
    Postgres,
    TeamMlflowServer,
    client_environment,
)

pytestmark = [
    pytest.mark.slow,
    # pgserver asks platformdirs for a runtime folder; without XDG_RUNTIME_DIR it uses /tmp
    pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR is not set"),
]

BUCKET = "team-mlflow"
NAMES = forecaster_names(PARAMS["registry"])  # btc_forecaster, btc_scaler, btc_candle_forecaster
# conf/team/credentials.yml's entries, exported by kedro-mlflow (`credentials: mlflow_team`);
# the server has no auth and ignores them. Must end up in no param, tag or artifact.
USER, PASSWORD = "team-test-user", "pw-team-0123456789abcdef"


@pytest.fixture
def team_mlflow(tmp_path: Path):
    """(PostgreSQL, S3, mlflow server) started in that order, stopped in reverse."""
    folder = tmp_path / "services"
    folder.mkdir()
    with ExitStack() as stack:
        postgres = stack.enter_context(Postgres(folder / "pg"))
        s3 = stack.enter_context(MotoS3(folder, BUCKET))
        server = stack.enter_context(TeamMlflowServer(folder, postgres, s3))
        yield postgres, s3, server


@pytest.fixture
def team_project(tmp_path: Path, team_mlflow, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project copy whose `--env team` logs to the team_mlflow server, run from its folder
    by a client without S3 (or tracking URI) variables."""
    postgres, _, server = team_mlflow
    project = copy_project(tmp_path)
    (project / "mlflow.db").unlink()  # the copy's empty store: none may be made
    monkeypatch.chdir(project)
    team = project / "conf" / "team"
    mlflow_yml = team / "mlflow.yml"
    text = mlflow_yml.read_text()
    assert "mlflow_tracking_uri: http://127.0.0.1:5000" in text
    mlflow_yml.write_text(text.replace("http://127.0.0.1:5000", server.url))
    shutil.copy(project / "conf/offline/parameters_data_engineering.yml", team)
    (team / "credentials.yml").write_text(
        yaml.safe_dump(
            {
                "mlflow_team": {
                    "MLFLOW_TRACKING_USERNAME": USER,
                    "MLFLOW_TRACKING_PASSWORD": PASSWORD,
                },
                # conf/team/catalog_monitor.yml: the forecast ledger in PostgreSQL
                "forecast_ledger": {"con": postgres.uri},
            }
        )
    )
    for name in (*CLIENT_FREE_VARIABLES, "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.setenv(name, "")  # restored (or removed) after the test, as kedro-mlflow
        monkeypatch.delenv(name)  # sets the two credentials in this process's environment
    previous = mlflow.get_tracking_uri()
    yield project
    mlflow.set_tracking_uri(previous)
    mlflow.set_registry_uri(None)


def train(project: Path, dump: Path) -> dict:
    return run_kedro(
        project,
        "training",
        env="team",
        params={"data_engineering.dump_path": str(dump), **ONE_EPOCH},
    )


def test_team_env_tracks_registers_and_serves_through_postgres_and_s3(
    team_project: Path, team_mlflow, tmp_path: Path
):
    postgres, s3, server = team_mlflow
    dump = tmp_path / "daily_900.csv"
    pd.read_csv(DAILY_CANDLES, nrows=900).to_csv(dump, index=False)
    assert not any(os.environ.get(name) for name in CLIENT_FREE_VARIABLES)

    train(team_project, dump)
    # conf/team/credentials.yml was read under --env team and its entries exported
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == PASSWORD

    # Nothing local: no sqlite store, no artifact folder; runs and registry on the server.
    assert not (team_project / "mlflow.db").exists()
    assert not (team_project / "mlruns").exists() and not (team_project / "mlartifacts").exists()
    client = MlflowClient(tracking_uri=server.url)
    experiment = client.get_experiment_by_name("Bitcoin_Forecasting")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")  # proxied by the server
    for name in NAMES.values():
        staging = client.get_model_version_by_alias(name, "staging")
        assert (staging.version, staging.run_id) == ("1", run.info.run_id)

    # ... kept in PostgreSQL,
    assert postgres.query("SELECT run_uuid, status FROM runs") == [(run.info.run_id, "FINISHED")]
    assert {n for (n,) in postgres.query("SELECT name FROM registered_models")} == set(
        NAMES.values()
    )
    metric = postgres.query(
        "SELECT value FROM latest_metrics WHERE run_uuid = %s AND key = %s",
        run.info.run_id,
        "test.rmse_ratio_to_naive",
    )
    assert len(metric) == 1 and np.isfinite(metric[0][0])
    # ... with the artifacts as objects in the bucket under mlartifacts/,
    keys = s3.keys("mlartifacts/")
    run_prefix = f"mlartifacts/{experiment.experiment_id}/{run.info.run_id}/artifacts/"
    assert f"{run_prefix}reporting/metrics.json" in keys
    assert len([k for k in keys if k.endswith("/MLmodel")]) == len(NAMES)
    # ... and the credentials exported from conf/team/credentials.yml in none of them.
    stored = postgres.query(
        "SELECT value FROM params UNION ALL SELECT value FROM tags "
        "UNION ALL SELECT value FROM model_version_tags"
    )
    assert stored and not any(PASSWORD in str(value) for (value,) in stored)
    bucket = s3.client()
    assert not any(
        PASSWORD.encode() in bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        for key in keys
        if not key.endswith((".keras", ".pb", ".png"))
    )

    # A second training: version 2 of each model, `staging` moved to it.
    train(team_project, dump)
    second = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"])[0]
    assert second.info.run_id != run.info.run_id
    for name in NAMES.values():
        staging = client.get_model_version_by_alias(name, "staging")
        assert (staging.version, staging.run_id) == ("2", second.info.run_id)
    aliases = postgres.query(
        "SELECT name, version FROM registered_model_aliases WHERE alias = 'staging'"
    )
    assert sorted(aliases) == sorted((name, 2) for name in NAMES.values())
    assert len([k for k in s3.keys("mlartifacts/") if k.endswith("/MLmodel")]) == 2 * len(NAMES)

    # `mlflow models serve` of the candle forecaster's staging version, found on the team
    # server and downloaded through its proxy (no S3 variables in its environment).
    silver = CandleCSVDataset(
        filepath=str(team_project / "data/02_intermediate/silver.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()
    served = ServedModel(
        tmp_path,
        f"models:/{NAMES['serving']}@staging",
        tracking_uri=server.url,
        environment=client_environment(),  # no S3 endpoint or keys: artifacts via the server
    )
    with served as url:
        status, body = post_json(
            f"{url}/invocations",
            {
                "dataframe_split": payload_from_candles(silver).to_dict(
                    orient="split", index=False
                ),
                "params": {"steps": 3},
            },
        )
    assert status == 200, body
    answer = pd.DataFrame(body["predictions"])
    last = silver["open_time"].iloc[-1]
    assert list(pd.to_datetime(answer["open_time"], utc=True)) == [
        last + pd.Timedelta(days=k) for k in (1, 2, 3)
    ]
    last_close = silver["close"].iloc[-1]
    assert answer["forecast_close"].between(0.5 * last_close, 2 * last_close).all()
    assert (answer["lower_95"] < answer["forecast_close"]).all()
    assert (answer["forecast_close"] < answer["upper_95"]).all()

    # `kedro run --pipelines inference --env team`: the forecast lands in the team's
    # PostgreSQL ledger (conf/team/catalog_monitor.yml), not in a local SQLite file.
    run_kedro(team_project, "inference", env="team", params={"inference.default_steps": 3})
    assert postgres.query("SELECT model_version, step FROM forecast_ledger ORDER BY step") == [
        ("2", 1),
        ("2", 2),
        ("2", 3),
    ]
    assert not (team_project / "forecast_ledger.db").exists()
