"""A Dask worker killed (SIGKILL) under a node: Dask runs the node again on a live worker,
or, when every try kills its worker, the run fails naming the node and its pair, with
nothing written for it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import dask
import distributed  # noqa: F401  (config loaded before dask.config.set: see below)
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node, pipeline
from kedro_datasets.pandas import CSVDataset

from cryptopythia.runners import DaskRunner

pytestmark = pytest.mark.slow

CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "tensorflow_threads": 1}


def closes(marker: str) -> pd.DataFrame:
    """Some closes, after killing this worker process on the first call (``marker`` file
    absent) or on every call (``marker`` = "always")."""
    if marker == "always" or not Path(marker).exists():
        if marker != "always":
            Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return pd.DataFrame({"close": [1.0, 2.0, 3.0]})


def doubled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame * 2


def run(tmp_path: Path, marker: str, retries: int):
    pair = pipeline(
        [
            node(closes, "params:marker", "closes", name="closes"),
            node(doubled, "closes", "doubled", name="doubled"),
        ],
        namespace="ethusdt_1d",
    )
    output = tmp_path / "doubled.csv"
    catalog = DataCatalog(
        datasets={
            "ethusdt_1d.doubled": CSVDataset(filepath=str(output)),
            "params:ethusdt_1d.marker": MemoryDataset(marker),
        }
    )
    DaskRunner(cluster={**CLUSTER, "retries": retries}).run(pair, catalog)
    return output


def test_a_node_whose_worker_dies_runs_again_on_a_live_worker(tmp_path):
    output = run(tmp_path, str(tmp_path / "killed-once"), retries=1)
    assert (tmp_path / "killed-once").exists()  # the first try did kill its worker
    assert pd.read_csv(output)["close"].tolist() == [2.0, 4.0, 6.0]


def test_a_node_that_always_kills_its_worker_fails_the_run_naming_its_pair(tmp_path):
    # distributed is imported above: dask.config.set's exit would otherwise drop the whole
    # "distributed" section it did not see, and later LocalClusters in this process fail
    # with KeyError 'distributed'.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        pytest.raises(RuntimeError, match=r"ethusdt_1d\.closes \(pair ethusdt_1d\): KilledWorker"),
    ):
        run(tmp_path, "always", retries=0)
    assert not (tmp_path / "doubled.csv").exists()
