"""The cluster env's data store: every catalog dataset on S3 (a real moto server), two
pairs trained by the DaskRunner on a LocalCluster whose workers share no folder with the
driver's data/, then one pair's forecast from the stored silver. The MLflow run still holds
the artifacts; nothing is written under the project's data/."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from mlflow import MlflowClient

from cryptopythia.runners import DaskRunner

from conftest import PROJECT_ROOT, copy_project, run_kedro
from support.pairs import list_pairs, write_kline_dump
from support.team_services import S3_KEYS, MotoS3

pytestmark = pytest.mark.slow

CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "tensorflow_threads": 1, "retries": 0}
BUCKET = "cryptopythia-data"  # conf/cluster/globals.yml's


@pytest.fixture
def store_project(tmp_path, monkeypatch):
    """A project copy whose env `store` is conf/cluster's data root (globals.yml) plus
    conf/offline's dump source, and moto's S3 with the bucket, in the environment the
    LocalCluster's workers inherit."""
    project = copy_project(tmp_path)
    env = project / "conf" / "store"
    env.mkdir()
    shutil.copy(PROJECT_ROOT / "conf" / "cluster" / "globals.yml", env / "globals.yml")
    shutil.copy(
        PROJECT_ROOT / "conf" / "offline" / "parameters_data_engineering.yml",
        env / "parameters_data_engineering.yml",
    )
    dumps = tmp_path / "dumps"
    write_kline_dump(dumps / "ethusdt_1d.csv", 800, seed=3)
    write_kline_dump(dumps / "solusdt_1d.csv", 800, seed=4)
    list_pairs(project, "store", ["ETHUSDT", "SOLUSDT"], ["1d"], dump_path=f"{dumps}/{{pair}}.csv")
    with MotoS3(tmp_path, BUCKET) as s3:
        for key, value in {**S3_KEYS, "AWS_ENDPOINT_URL": s3.endpoint}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(project)
        yield project, s3


def test_pairs_train_on_dask_with_every_dataset_on_s3(store_project):
    project, s3 = store_project
    run_kedro(
        project,
        "training",
        env="store",
        params={"modelling.epochs": 2},
        runner=DaskRunner(cluster=CLUSTER),
    )

    keys = set(s3.keys("data/"))
    for pair in ("ethusdt_1d", "solusdt_1d"):
        assert {
            f"data/01_raw/pairs/{pair}/bronze.csv",
            f"data/01_raw/pairs/{pair}/bronze.csv.meta.json",
            f"data/02_intermediate/pairs/{pair}/silver.csv",
            f"data/03_primary/pairs/{pair}/gold.csv",
            f"data/08_reporting/pairs/{pair}/metrics.json",
        } <= keys, sorted(keys)
    assert not [k for k in keys if k.endswith(".tmp")]  # atomic writes left no temp object
    written = [
        p for p in (project / "data").rglob("*") if p.is_file() and "snapshot" not in p.parts
    ]
    assert written == []

    silver = pd.read_csv(f"s3://{BUCKET}/data/02_intermediate/pairs/ethusdt_1d/silver.csv")
    assert len(silver) == 800
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    (run,) = client.search_runs(
        [client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id]
    )
    assert run.info.status == "FINISHED"
    reported = {a.path for a in client.list_artifacts(run.info.run_id, "ethusdt_1d/reporting")}
    assert "ethusdt_1d/reporting/metrics.json" in reported  # logged from the stored object
    assert str(client.get_model_version_by_alias("solusdt_1d_forecaster", "staging").version) == "1"

    run_kedro(project, "inference", env="store", namespaces=["ethusdt_1d"])
    forecast = pd.read_csv(f"s3://{BUCKET}/data/07_model_output/pairs/ethusdt_1d/forecast.csv")
    assert forecast["model_name"].eq("ethusdt_1d_forecaster").all()
