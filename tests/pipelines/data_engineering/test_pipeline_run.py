"""Real `kedro run --pipeline data_engineering` sessions, offline and against a live server."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cryptopythia.sources.binance import BinanceFetchError

from conftest import DAILY_CANDLES, FOUR_HOUR_CANDLES, run_kedro
from support.fake_binance import Fault, make_klines, point_catalog_at
from support.pairs import list_pairs
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


NOT_UPDATING = "Not updating data/01_raw/bronze.csv.*"


def negative_low(klines):
    klines[350][3] = "-1.0"
    return klines, NOT_UPDATING + r"prices > 0: 1 row\(s\)"


def conflicting_twin(klines):
    twin = list(klines[350])
    twin[4] = str(float(twin[4]) * 1.001)
    return klines + [twin], (
        r"The kline dump holds 2 rows sharing an open_time with different values; the "
        r"first, .*, at bad.csv row 351 and bad.csv row 401\. Nothing was stored"
    )


def conflict_with_stored(klines):
    klines[100][5] = str(float(klines[100][5]) + 1)  # a stored candle's volume changed
    return klines, NOT_UPDATING + "2 rows sharing an open_time with different values"


def infinite_high(klines):
    klines[350][2] = "inf"
    return klines, NOT_UPDATING + r"prices and volume are finite: 1 row\(s\)"


def infinite_prices(klines):
    klines[350][1:5] = ["inf"] * 4
    return klines, NOT_UPDATING + r"prices and volume are finite: 1 row\(s\)"


def off_grid(klines):
    klines[350][0] += 12 * 3600 * 1000  # a daily candle opening at 12:00
    klines[350][6] += 12 * 3600 * 1000
    return klines, NOT_UPDATING + r"1 candle\(s\) do not open on the 1d grid.*12:00"


def overflowing_time(klines):
    klines[350][0] = "1e20"  # beyond int64 milliseconds
    return klines, r"open_time outside 2010..2100 .*first at row 351: 100000000000000000000"


def candle_from_2090(klines):
    opens = 3786912000000  # 2090-01-01, on the daily grid: only its date is wrong
    klines.append([opens, *klines[-1][1:6], opens + 86_400_000 - 1])
    return klines, (
        r"1 candle\(s\) in the kline dump .*bad.csv had not closed by now .* the first "
        r"opening 2090-01-01.*invalid_rows=drop"
    )


def todays_open_candle(klines):
    return make_klines(400, "1d", with_open_candle=True), r"1 candle\(s\) .*had not closed"


def close_time_an_hour_late(klines):
    klines[350][6] += 3600 * 1000
    return klines, (
        r"1 candle\(s\) in the kline dump .*bad.csv close at another time than open_time "
        r"\+ 1d - 1 ms; the first opens .* and closes .* 00:59:59.*\. Nothing was stored"
    )


@pytest.mark.parametrize(
    "spoil",
    [
        candle_from_2090,
        close_time_an_hour_late,
        todays_open_candle,
        negative_low,
        conflicting_twin,
        conflict_with_stored,
        infinite_high,
        infinite_prices,
        off_grid,
        overflowing_time,
    ],
)
def test_a_bad_dump_fails_the_run_and_leaves_bronze_and_silver_intact(
    kedro_project, tmp_path, spoil
):
    klines = make_klines(400, "1d", with_open_candle=False)
    good = write_dump(tmp_path / "good.csv", klines[:300])
    run_offline(kedro_project, good)
    bronze_file, silver_file = layer_files(kedro_project)
    good_bronze, good_silver = bronze_file.read_bytes(), silver_file.read_bytes()

    bad_klines, message = spoil([list(k) for k in klines])
    bad = write_dump(tmp_path / "bad.csv", bad_klines)
    with pytest.raises(ValueError, match=message):
        run_offline(kedro_project, bad)
    assert bronze_file.read_bytes() == good_bronze
    assert silver_file.read_bytes() == good_silver
    run_offline(kedro_project, good)  # the next run with good data is not blocked


@contextlib.contextmanager
def dump_checks_log(caplog):
    """caplog on the dump checks' logger (a session's logging config replaces the root's
    handlers). Kedro configures logging once, when kedro.framework.project is first
    imported: done before the handler is added, so that it stays."""
    import kedro.framework.project  # noqa: F401

    logger = logging.getLogger("cryptopythia.sources.dump_checks")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


def test_candles_not_closed_are_dropped_and_reported_with_invalid_rows_drop(
    kedro_project, tmp_path, caplog
):
    klines = make_klines(300, "1d", with_open_candle=True)
    klines.append([3786912000000, *klines[-1][1:6], 3786912000000 + 86_400_000 - 1])
    with dump_checks_log(caplog):
        run_offline(kedro_project, write_dump(tmp_path / "dump.csv", klines), invalid_rows="drop")
    bronze = pd.read_csv(layer_files(kedro_project)[0])
    assert len(bronze) == 300  # today's open candle and the one from 2090 dropped
    assert bronze["close_time"].max() < pd.Timestamp.now(tz="UTC").value // 10**6
    assert "2 candle(s) in the kline dump" in caplog.text and "dropped" in caplog.text


def test_a_99_9_percent_move_is_stored_with_a_warning_naming_the_candle(
    kedro_project, tmp_path, caplog
):
    klines = make_klines(300, "1d", with_open_candle=False)
    klines[200][4] = f"{float(klines[199][4]) / 2000:.6f}"  # close 2000x lower
    klines[200][3] = klines[200][4]  # low = close: no price rule is broken
    opened = pd.Timestamp(klines[200][0], unit="ms", tz="UTC")
    with dump_checks_log(caplog):
        run_offline(kedro_project, write_dump(tmp_path / "dump.csv", klines[:298]))
    assert "closed 99.9% or more away" in caplog.text and str(opened) in caplog.text

    # the next dump's first candle 2000x above the last stored one: warned too
    later = [list(k) for k in klines[298:]]
    later[0][4] = later[0][2] = f"{float(klines[297][4]) * 2000:.6f}"  # close = high
    caplog.clear()
    with dump_checks_log(caplog):
        run_offline(kedro_project, write_dump(tmp_path / "later.csv", later))
    assert str(pd.Timestamp(later[0][0], unit="ms", tz="UTC")) in caplog.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", r"empty.csv is empty\. data_engineering.dump_path must name"),
        ("binary.csv", bytes(range(256)) * 4, r"binary.csv is not UTF-8 text.*binary file"),
        ("notazip.zip", b"PK but not a zip", r"notazip.zip is not a valid zip"),
        ("blank.csv", b",1,2,0.5,1.5,10,86399999\n", r"blank.csv: 1 row\(s\) with a missing"),
        ("garbage.csv.gz", b"not gzip", r"garbage.csv.gz is not a complete gzip file"),
        ("header.csv", DUMP_HEADER.encode(), r"header.csv holds a header and no candle"),
    ],
)
def test_an_unreadable_dump_file_is_named_and_stores_nothing(
    kedro_project, tmp_path, name, content, message
):
    dump = tmp_path / name
    dump.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        run_offline(kedro_project, str(dump))
    assert not any(path.exists() for path in layer_files(kedro_project))


def test_invalid_rows_drop_keeps_raw_rows_in_bronze_and_drops_them_in_silver(
    kedro_project, tmp_path
):
    klines, _ = negative_low(make_klines(400, "1d", with_open_candle=False))
    params = {
        "data_engineering.dump_path": write_dump(tmp_path / "bad.csv", klines),
        "data_engineering.invalid_rows": "drop",
        "data_engineering.gap_policy": "keep",
    }
    run_kedro(kedro_project, "data_engineering", env="offline", params=params)
    assert len(pd.read_csv(layer_files(kedro_project)[0])) == 400
    assert len(load_silver()) == 399


@pytest.mark.parametrize(
    "spoil",
    [
        lambda server: server.klines["1d"][-2].__setitem__(4, "-5.0"),
        lambda server: server.faults.append(Fault("null_field", field=4)),
    ],
    ids=["negative_close", "null_close"],
)
def test_a_bad_api_page_fails_the_run_and_leaves_bronze_intact(kedro_project, fake_binance, spoil):
    point_catalog_at(kedro_project, fake_binance)
    fake_binance.klines["1d"] = make_klines(300, "1d")
    bronze_file, silver_file = layer_files(kedro_project)
    run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    bronze_file.write_bytes(bronze_file.read_bytes().rsplit(b"\n", 2)[0] + b"\n")
    truncated, good_silver = bronze_file.read_bytes(), silver_file.read_bytes()
    spoil(fake_binance)  # the one candle the next run asks for is bad
    with pytest.raises((ValueError, BinanceFetchError), match=r"prices > 0|null close"):
        run_kedro(kedro_project, "data_engineering", params=LIVE_PARAMS)
    assert bronze_file.read_bytes() == truncated
    assert silver_file.read_bytes() == good_silver


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


@pytest.mark.parametrize(
    "interval, message",
    [
        ("1d", r"The kline dump .*4h.csv holds candles 14400 s apart, but .*interval='1d'"),
        ("4h", r"bronze.csv holds BTCUSDT 1d candles, but the run asks for .*interval='4h'"),
    ],
)
def test_a_dump_of_another_interval_stops_instead_of_replacing_bronze(
    kedro_project, tmp_path, interval, message
):
    daily = write_dump(tmp_path / "1d.csv", make_klines(100, "1d", with_open_candle=False))
    run_offline(kedro_project, daily)
    bronze_file, _ = layer_files(kedro_project)
    stored = bronze_file.read_bytes()
    four_hour = write_dump(tmp_path / "4h.csv", make_klines(100, "4h", with_open_candle=False))
    params = {"data_engineering.dump_path": four_hour, "data_engineering.interval": interval}
    with pytest.raises(ValueError, match=message):
        run_kedro(kedro_project, "data_engineering", env="offline", params=params)
    assert bronze_file.read_bytes() == stored


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


def test_a_dump_named_for_another_symbol_stops_the_run(kedro_project, tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    write_dump(folder / "ETHUSDT-1d-2024-01.csv", make_klines(31, "1d", with_open_candle=False))
    with pytest.raises(ValueError, match=r"holds ETHUSDT 1d candles.*symbol='BTCUSDT'"):
        run_offline(kedro_project, str(folder))
    assert not layer_files(kedro_project)[0].exists()


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


def test_another_symbol_never_mixes_into_bronze(kedro_project, tmp_path):
    btc = make_klines(100, "1d", with_open_candle=False)
    run_offline(kedro_project, write_dump(tmp_path / "btc.csv", btc))
    bronze_file, silver_file = layer_files(kedro_project)
    stored = bronze_file.read_bytes(), silver_file.read_bytes()
    meta = json.loads(Path(f"{bronze_file}.meta.json").read_text())
    assert meta == {"symbol": "BTCUSDT", "interval": "1d"}

    eth = make_klines(120, "1d", with_open_candle=False, seed=7)  # other prices, newer rows
    with pytest.raises(ValueError, match=r"bronze.csv holds BTCUSDT 1d candles.*'ETHUSDT'"):
        run_offline(kedro_project, write_dump(tmp_path / "eth.csv", eth), symbol="ETHUSDT")
    assert (bronze_file.read_bytes(), silver_file.read_bytes()) == stored


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
