"""The project's own Kedro datasets."""

from __future__ import annotations

import pandas as pd
import pytest

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
    deadline = time.monotonic() + 60
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
