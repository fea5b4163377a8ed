"""Real data_engineering runs on bad data: a spoiled or unreadable dump, a bad API page, a dump
of another interval or symbol stop the run and leave bronze and silver as they were;
invalid_rows=drop drops bad rows, and a 99.9% move is stored with a warning."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from test_pipeline_run import (
    DUMP_HEADER,
    LIVE_PARAMS,
    layer_files,
    load_silver,
    run_offline,
    write_dump,
)

from cryptopythia.sources.binance import BinanceFetchError

from conftest import run_kedro
from support.fake_binance import Fault, make_klines, point_catalog_at

pytestmark = pytest.mark.slow  # real kedro runs


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


def test_a_dump_named_for_another_symbol_stops_the_run(kedro_project, tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    write_dump(folder / "ETHUSDT-1d-2024-01.csv", make_klines(31, "1d", with_open_candle=False))
    with pytest.raises(ValueError, match=r"holds ETHUSDT 1d candles.*symbol='BTCUSDT'"):
        run_offline(kedro_project, str(folder))
    assert not layer_files(kedro_project)[0].exists()


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
