"""The project's own Kedro datasets."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError

from cryptopythia.datasets import BinanceClientDataset, CandleCSVDataset


def test_candle_csv_round_trips_utc_timestamps(tmp_path):
    table = pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=3, freq="4h", tz="UTC"),
            "close": [1.0, 2.0, 3.0],
        }
    )
    dataset = CandleCSVDataset(filepath=str(tmp_path / "t.csv"), datetime_columns=["open_time"])
    dataset.save(table)
    loaded = dataset.load()
    assert str(loaded["open_time"].dt.tz) == "UTC"
    assert list(loaded["open_time"]) == list(table["open_time"])


def test_missing_file_loads_empty_only_when_allowed(tmp_path):
    assert CandleCSVDataset(filepath=str(tmp_path / "none.csv"), allow_missing=True).load().empty
    with pytest.raises(Exception, match="none.csv"):
        CandleCSVDataset(filepath=str(tmp_path / "none.csv")).load()


def test_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "bronze.csv"
    dataset = CandleCSVDataset(filepath=str(path))
    dataset.save(pd.DataFrame({"a": [1, 2]}))
    before = path.read_bytes()

    class Exploding(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            kwargs["path_or_buf"].write("a\n1\n")  # half a table, then a crash
            raise OSError("disk full")

    with pytest.raises(Exception, match="disk full"):
        dataset.save(Exploding({"a": [3]}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["bronze.csv"]


def test_binance_keys_never_show_in_the_dataset_description(monkeypatch):
    monkeypatch.setenv("BINANCE_API_KEY", "env-key-123")
    monkeypatch.setenv("BINANCE_API_SECRET", "env-secret-456")
    from_env = BinanceClientDataset()
    from_credentials = BinanceClientDataset(
        credentials={"api_key": "cred-key-789", "api_secret": "cred-secret-000"}
    )
    assert from_env.load().API_KEY == "env-key-123"
    assert from_credentials.load().API_KEY == "cred-key-789"
    for dataset in (from_env, from_credentials):
        text = repr(dataset) + str(dataset._describe())
        assert "key-" not in text and "secret" not in text
        assert dataset._describe()["authenticated"] is True


# A writer that saves a large table again and again, so a kill lands inside a save.
ENDLESS_SAVE = """
import sys
import numpy as np, pandas as pd
from cryptopythia.datasets import CandleCSVDataset
table = pd.DataFrame(np.random.default_rng(0).random((400_000, 8)))
dataset = CandleCSVDataset(filepath=sys.argv[1])
while True:
    dataset.save(table)
"""


def test_a_save_killed_midway_leaves_the_old_table_and_the_next_save_cleans_up(tmp_path):
    import subprocess
    import sys
    import time

    target = tmp_path / "silver.csv"
    dataset = CandleCSVDataset(filepath=str(target))
    dataset.save(pd.DataFrame({"close": [1.0, 2.0]}))
    writer = subprocess.Popen([sys.executable, "-c", ENDLESS_SAVE, str(target)])
    deadline = time.monotonic() + 300  # a fresh interpreter imports kedro and mlflow first
    while not list(tmp_path.glob("silver.csv.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.kill()  # SIGKILL inside a save: no finally block runs
    writer.wait()
    left = list(tmp_path.glob("silver.csv.*.tmp"))
    assert left, "the writer never started a save"
    assert f".{writer.pid}-" in left[0].name
    pd.read_csv(target)  # whatever was last renamed in is whole

    dataset.save(pd.DataFrame({"close": [3.0]}))
    assert not list(tmp_path.glob("silver.csv.*.tmp"))
    assert dataset.load()["close"].tolist() == [3.0]


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A tiny tmpfs of ``size`` mounted at ``folder`` (needs root); yields whether it is."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=True)


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` (holding what was written in it) made unwritable for real: chmod for a
    user, a read-only remount of a tmpfs for root (chmod does not stop root)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "EACCES"
        finally:
            folder.chmod(0o755)
        return
    kept = {p.name: p.read_bytes() for p in folder.iterdir()}
    with tmpfs(folder, "1m") as mounted:
        if not mounted:
            pytest.skip("running as root, where chmod does not stop writes, and no tmpfs mount")
        for name, data in kept.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield "EROFS"


def test_a_save_into_a_read_only_folder_names_the_file_why_and_the_fix(tmp_path):
    folder = tmp_path / "01_raw"
    folder.mkdir()
    path = folder / "bronze.csv"
    dataset = CandleCSVDataset(filepath=str(path), sidecar=True)
    dataset.save(pd.DataFrame({"a": [1, 2]}))
    before = path.read_bytes()
    with read_only(folder) as code:
        with pytest.raises(DatasetError) as error:
            dataset.save(pd.DataFrame({"a": [3]}))
        assert path.read_bytes() == before
    message = str(error.value)
    assert f"Could not write {path}.meta.json" in message  # the sidecar comes first
    assert f"({code})" in message
    assert "read-only" in message if code == "EROFS" else "permission" in message
    assert f"{path} was left as it was" in message
    assert "data_root" in message  # the fix: a writable folder


def test_a_save_onto_a_full_disk_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    folder = tmp_path / "02_intermediate"
    path = folder / "silver.csv"
    big = pd.DataFrame({"close": np.arange(50_000, dtype="float64")})  # ~500 KB as CSV
    with tmpfs(folder, "64k") as mounted:
        dataset = CandleCSVDataset(filepath=str(path))
        dataset.save(pd.DataFrame({"close": [1.0]}))
        before = path.read_bytes()
        if not mounted:  # no tmpfs: a real ENOSPC from /dev/full instead
            full = lambda *args, **kwargs: open("/dev/full", "w")  # noqa: E731, SIM115
            monkeypatch.setattr(dataset._fs, "open", full)
        with pytest.raises(DatasetError) as error:
            dataset.save(big)
        assert path.read_bytes() == before
        assert [p.name for p in folder.iterdir()] == ["silver.csv"]  # no temp file left
    message = str(error.value)
    assert f"Could not write {path}" in message
    assert "(ENOSPC)" in message and "disk is full" in message and "df -h" in message
    assert f"{path} was left as it was" in message


def test_a_bronze_lock_in_a_read_only_folder_is_named(tmp_path):
    from cryptopythia.data_hooks import DataLockHook

    folder = tmp_path / "01_raw"
    folder.mkdir()
    catalog = SimpleNamespace(
        config_resolver=SimpleNamespace(
            resolve_pattern=lambda name: {"filepath": str(folder / "bronze.csv")}
        )
    )
    pipeline = SimpleNamespace(all_outputs=lambda: {"bronze", "silver"})
    hook = DataLockHook()
    hook._timeout = 1
    with read_only(folder) as code, pytest.raises(RuntimeError) as error:
        hook.before_pipeline_run(pipeline, catalog)
    message = str(error.value)
    assert f"Could not write {folder / 'bronze.csv.lock'}" in message
    assert f"({code})" in message and "Nothing ran" in message


def test_the_bronze_lock_reads_its_timeout_when_the_run_starts(tmp_path):
    # context.params before the run type-checks the parameters against every registered
    # pipeline (each pair's), not only the run's: a second check that grew with the pairs.
    from cryptopythia.data_hooks import DataLockHook

    class Context:
        reads = 0

        @property
        def params(self):
            self.reads += 1
            return {"data_engineering": {"lock_timeout_seconds": "abc"}}

    context = Context()
    hook = DataLockHook()
    hook.after_context_created(context)
    assert context.reads == 0
    catalog = SimpleNamespace(
        config_resolver=SimpleNamespace(
            resolve_pattern=lambda name: {"filepath": str(tmp_path / "bronze.csv")}
        )
    )
    pipeline = SimpleNamespace(all_outputs=lambda: {"ethusdt_1d.bronze"})
    with pytest.raises(ValueError, match=r"lock_timeout_seconds='abc' is not a number"):
        hook.before_pipeline_run(pipeline, catalog)
    assert context.reads == 1
