"""Real `kedro run --pipeline data_engineering` sessions, offline and against a live server."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DAILY_CANDLES, FOUR_HOUR_CANDLES, needs_shared_data, run_kedro
from fake_binance import Fault, make_klines

from cryptopythia.pipelines.data_engineering.binance_fetch import BinanceFetchError


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


@needs_shared_data
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
    assert silver.loc[silver["open_time"] == pd.Timestamp("2024-01-01", tz="UTC"), "close"].item() == 44179.55


@needs_shared_data
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


def point_catalog_at(project, server) -> None:
    (project / "conf" / "local" / "catalog.yml").write_text(
        "binance_client:\n"
        "  type: cryptopythia.datasets.BinanceClientDataset\n"
        f"  api_url: {server.api_url}\n"
        "  timeout_seconds: 2\n"
    )


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

    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    assert bronze_file.read_bytes() == first_bronze
    assert len(fake_binance.kline_requests) == 2  # the re-run asked nothing

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


@needs_shared_data
def test_a_bad_dump_fails_the_run_and_keeps_the_stored_silver(kedro_project, tmp_path):
    params = {"data_engineering.dump_path": str(DAILY_CANDLES)}
    run_kedro(kedro_project, "data_engineering", env="offline", params=params)
    silver_file = kedro_project / "data" / "02_intermediate" / "silver.csv"
    good_silver = silver_file.read_bytes()

    bad_dump = pd.read_csv(DAILY_CANDLES)
    bad_dump.loc[100, "low"] = -1.0
    bad_dump.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"prices > 0: 1 row\(s\), first at \['2017-11-25"):
        run_kedro(
            kedro_project,
            "data_engineering",
            env="offline",
            params={"data_engineering.dump_path": str(tmp_path / "bad.csv")},
        )
    assert silver_file.read_bytes() == good_silver
