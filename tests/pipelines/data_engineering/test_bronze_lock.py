"""Real data_engineering runs and the bronze lock: a second run waits for it, then stops;
a listed pair's bronze is locked too; a lock timeout that is no number is named."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from test_pipeline_run import layer_files, run_offline, write_dump

from conftest import run_kedro
from support.fake_binance import make_klines
from support.pairs import list_pairs

pytestmark = pytest.mark.slow  # real kedro runs


def test_a_second_run_waits_for_the_bronze_lock_then_stops(kedro_project, tmp_path):
    klines = make_klines(400, "1d", with_open_candle=False)
    run_offline(kedro_project, write_dump(tmp_path / "old.csv", klines[:300]))
    bronze_file, silver_file = layer_files(kedro_project)
    stored = bronze_file.read_bytes(), silver_file.read_bytes()
    lock = f"{bronze_file}.lock"
    holder = subprocess.Popen(  # another process in the middle of a data_engineering run
        [sys.executable, "-c", HOLD_LOCK, lock], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RuntimeError, match=r"Another data_engineering run holds .*bronze"):
            run_offline(
                kedro_project,
                write_dump(tmp_path / "new.csv", klines),
                lock_timeout_seconds=1,
            )
        assert (bronze_file.read_bytes(), silver_file.read_bytes()) == stored
    finally:
        holder.kill()
        holder.wait()
    # the holder died (as a killed run does): the OS released its lock, the next run merges
    run_offline(kedro_project, write_dump(tmp_path / "new.csv", klines), lock_timeout_seconds=1)
    assert len(pd.read_csv(bronze_file)) == 400


def test_a_listed_pair_s_bronze_is_locked_too(kedro_project, tmp_path):
    dumps = tmp_path / "dumps"
    for symbol, seed in (("ethusdt", 1), ("solusdt", 2)):
        klines = make_klines(120, "1d", with_open_candle=False, seed=seed)
        dumps.mkdir(exist_ok=True)
        write_dump(dumps / f"{symbol}_1d.csv", klines)
    list_pairs(
        kedro_project, "offline", ["ETHUSDT", "SOLUSDT"], ["1d"], dump_path=f"{dumps}/{{pair}}.csv"
    )
    lock = kedro_project / "data/01_raw/pairs/solusdt_1d/bronze.csv.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            RuntimeError, match=r"holds .*solusdt_1d/bronze.csv.lock .*solusdt_1d.bronze"
        ):
            run_kedro(
                kedro_project,
                "data_engineering",
                env="offline",
                params={"data_engineering.lock_timeout_seconds": 1},
            )
    finally:
        holder.kill()
        holder.wait()
    assert not (kedro_project / "data/01_raw/pairs/solusdt_1d/bronze.csv").exists()


def test_a_lock_timeout_that_is_no_number_is_named(kedro_project):
    with pytest.raises(ValueError, match=r"lock_timeout_seconds='abc' is not a number of seconds"):
        run_kedro(
            kedro_project,
            "data_engineering",
            env="offline",
            params={"data_engineering.lock_timeout_seconds": "abc"},
        )
    assert not layer_files(kedro_project)[0].exists()


HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])  # kept referenced: a collected FileLock releases itself
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""
