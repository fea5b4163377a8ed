"""Real `kedro run --pipeline data_engineering` sessions, offline and against a live server:
the bronze and silver they build, incremental runs, an unreachable Binance, a stale silver."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from cryptopythia.sources.binance import BinanceFetchError

from conftest import DAILY_CANDLES, FOUR_HOUR_CANDLES, run_kedro
from support.fake_binance import Fault, make_klines, point_catalog_at
from support.project import free_port

pytestmark = pytest.mark.slow  # real kedro runs


def load_silver() -> pd.DataFrame:
    from cryptopythia.datasets import CandleCSVDataset

    return CandleCSVDataset(
        filepath="data/02_intermediate/silver.csv", datetime_columns=["open_time", "close_time"]
    ).load()


def assert_valid_silver(silver: pd.DataFrame) -> None:
    assert silver["open_time"].is_monotonic_increasing
    assert silver["open_time"].is_unique
    assert (silver[["open", "high", "low", "close"]] > 0).all().all()
    assert (silver["high"] >= silver[["open", "close"]].max(axis=1)).all()
    assert (silver["low"] <= silver[["open", "close"]].min(axis=1)).all()
    assert (silver["volume"] >= 0).all()


def test_offline_daily_run_builds_bronze_and_silver(kedro_project):
    run_kedro(
        kedro_project,
        "data_engineering",
        env="offline",
        params={"data_engineering.dump_path": str(DAILY_CANDLES)},
    )
    source = pd.read_csv(DAILY_CANDLES)
    bronze = pd.read_csv("data/01_raw/bronze.csv")
    assert list(bronze["open_time"]) == list(source["open_time"])
    silver = load_silver()
    assert len(silver) == len(source) == 2884
    assert silver["open_time"].iloc[0] == pd.Timestamp("2017-08-17", tz="UTC")
    assert not silver["was_filled"].any()
    assert_valid_silver(silver)
    assert (
        silver.loc[silver["open_time"] == pd.Timestamp("2024-01-01", tz="UTC"), "close"].item()
        == 44179.55
    )


def test_offline_four_hour_run_fills_the_eight_maintenance_gaps(kedro_project):
    run_kedro(
        kedro_project,
        "data_engineering",
        env="offline",
        params={
            "data_engineering.dump_path": str(FOUR_HOUR_CANDLES),
            "data_engineering.interval": "4h",
        },
    )
    source = pd.read_csv(FOUR_HOUR_CANDLES)
    silver = load_silver()
    assert_valid_silver(silver)
    assert (silver["open_time"].diff().dropna() == pd.Timedelta(hours=4)).all()
    n_filled = int(silver["was_filled"].sum())
    assert len(silver) == len(source) + n_filled
    runs = (silver["was_filled"] & ~silver["was_filled"].shift(fill_value=False)).sum()
    assert runs == 8


LIVE_PARAMS = {
    "data_engineering.start_date": "2015-01-01",
    "data_engineering.fetch.backoff_seconds": 0.01,
    "data_engineering.fetch.max_tries": 3,
}


def test_live_runs_are_incremental_and_failures_leave_bronze_intact(kedro_project, fake_binance):
    point_catalog_at(kedro_project, fake_binance)
    fake_binance.klines["1d"] = make_klines(1500, "1d")
    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    bronze_file = kedro_project / "data" / "01_raw" / "bronze.csv"
    silver_file = kedro_project / "data" / "02_intermediate" / "silver.csv"
    first_bronze, first_silver = bronze_file.read_bytes(), silver_file.read_bytes()
    assert len(load_silver()) == 1500
    assert len(fake_binance.kline_requests) == 2
    assert len(fake_binance.requests) == 3  # + Binance's server time

    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    assert bronze_file.read_bytes() == first_bronze
    assert len(fake_binance.kline_requests) == 2  # the re-run asked no kline...
    assert len(fake_binance.requests) == 4  # ... only the server time

    # A day later there is one more closed candle, but the server keeps failing.
    bronze_file.write_bytes(first_bronze.rsplit(b"\n", 2)[0] + b"\n")  # drop the last candle
    truncated = bronze_file.read_bytes()
    fake_binance.faults.extend([Fault("status", 502)] * 3)
    with pytest.raises(BinanceFetchError, match="after 3 tries"):
        run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    assert bronze_file.read_bytes() == truncated
    assert silver_file.read_bytes() == first_silver
    assert not list(bronze_file.parent.glob("*.tmp"))

    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    assert bronze_file.read_bytes() == first_bronze


def test_an_unreachable_binance_fails_the_default_run_fast_naming_env_offline(kedro_project):
    # The default live run (no env, conf/base's retries) where Binance cannot be reached.
    (kedro_project / "conf" / "local" / "catalog.yml").write_text(
        "binance_client:\n"
        "  type: cryptopythia.datasets.BinanceClientDataset\n"
        f"  api_url: http://127.0.0.1:{free_port()}/api\n"
    )
    # "Cannot reach" is raised at the first try, before conf/base's 1 + 2 + 4 + 8 s of
    # backoff (test_fetch.py times it).
    with pytest.raises(BinanceFetchError, match=r"Cannot reach Binance.*--env offline"):
        run_kedro(kedro_project, "training")
    assert not (kedro_project / "data" / "01_raw" / "bronze.csv").exists()


def test_offline_env_reads_the_shipped_snapshot_with_no_params(kedro_project):
    run_kedro(kedro_project, "data_engineering", env="offline")
    assert len(load_silver()) == 2884
    run_kedro(kedro_project, "data_engineering", env="offline")  # again: nothing new
    assert len(load_silver()) == 2884
    (kedro_project / "data" / "01_raw" / "bronze.csv").unlink()  # one interval per bronze
    run_kedro(kedro_project, "data_engineering", env="offline_intraday")
    silver = load_silver()
    assert len(silver) == len(pd.read_csv(FOUR_HOUR_CANDLES)) + int(silver["was_filled"].sum())
    assert (silver["open_time"].diff().dropna() == pd.Timedelta(hours=4)).all()


DUMP_HEADER = "open_time,open,high,low,close,volume,close_time\n"


def write_dump(path, klines) -> str:
    """``klines`` as a 7-column dump CSV with a header, like the snapshot in data/01_raw/snapshot."""
    path.write_text(DUMP_HEADER + "".join(",".join(map(str, k[:7])) + "\n" for k in klines))
    return str(path)


def layer_files(project):
    data = project / "data"
    return data / "01_raw" / "bronze.csv", data / "02_intermediate" / "silver.csv"


def run_offline(project, dump_path: str, **params) -> None:
    """`kedro run --pipeline data_engineering --env offline` on ``dump_path``."""
    params = {f"data_engineering.{key}": value for key, value in params.items()}
    params["data_engineering.dump_path"] = dump_path
    run_kedro(project, "data_engineering", env="offline", params=params)


def test_an_older_dump_merges_into_bronze_without_erasing_newer_candles(
    kedro_project, fake_binance, tmp_path
):
    point_catalog_at(kedro_project, fake_binance)
    fake_binance.klines["1d"] = make_klines(1500, "1d")
    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    bronze_file, _ = layer_files(kedro_project)
    live = pd.read_csv(bronze_file)

    older = write_dump(tmp_path / "btcusdt_1d.csv", fake_binance.klines["1d"][:1000])
    run_offline(kedro_project, older)
    merged = pd.read_csv(bronze_file)
    pd.testing.assert_frame_equal(merged, live, check_dtype=False)  # the API's extra columns too
    assert len(load_silver()) == 1500


def test_a_dump_starts_at_start_date(kedro_project, tmp_path):
    klines = make_klines(100, "1d", with_open_candle=False)
    start = pd.Timestamp(klines[40][0], unit="ms", tz="UTC")
    params = {
        "data_engineering.dump_path": write_dump(tmp_path / "btcusdt_1d.csv", klines),
        "data_engineering.start_date": start.strftime("%Y-%m-%d"),
    }
    run_kedro(kedro_project, "data_engineering", env="offline", params=params)
    bronze = pd.read_csv(layer_files(kedro_project)[0])
    assert list(bronze["open_time"]) == [k[0] for k in klines[40:]]
    assert load_silver()["open_time"].iloc[0] == start


@pytest.mark.parametrize("pipeline", ["feature_engineering", "inference"])
def test_a_silver_older_than_its_bronze_stops_the_runs_that_read_it(kedro_project, pipeline):
    run_kedro(kedro_project, "data_engineering", env="offline")
    bronze = kedro_project / "data/01_raw/bronze.csv"
    silver = kedro_project / "data/02_intermediate/silver.csv"
    # what a run killed between the bronze and the silver save leaves: bronze newer
    os.utime(bronze, (silver.stat().st_atime, silver.stat().st_mtime + 60))
    with pytest.raises(RuntimeError, match=r"silver.csv .*older than its bronze.*Nothing ran"):
        run_kedro(kedro_project, pipeline, env="offline")
    assert not (kedro_project / "data/03_primary/gold.csv").exists()

    run_kedro(kedro_project, "data_engineering", env="offline")  # rebuilds silver
    assert silver.stat().st_mtime >= bronze.stat().st_mtime
    run_kedro(kedro_project, "feature_engineering", env="offline")
    assert (kedro_project / "data/03_primary/gold.csv").exists()
