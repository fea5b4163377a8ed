"""Binance's public kline dumps: CSV, gzip'd CSV or zip, header or not, ms or us, 7 or 12
columns; and the candle snapshot shipped in data/01_raw/snapshot."""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cryptopythia.sources import dump
from cryptopythia.sources.bronze import klines_to_bronze

from support.project import DAILY_CANDLES, FOUR_HOUR_CANDLES, PROJECT_ROOT

# data_engineering.dump_max_bytes as configured
MAX_BYTES = yaml.safe_load(
    (PROJECT_ROOT / "conf/base/parameters_data_engineering.yml").read_text()
)["data_engineering"]["dump_max_bytes"]


def read_kline_dump(path, symbol=None, interval=None, max_bytes=MAX_BYTES):
    return dump.read_kline_dump(path, symbol, interval, max_bytes=max_bytes)


HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore"
)


def dump_text(klines, n_columns=12, header=False, microseconds=False) -> str:
    lines = [",".join(HEADER.split(",")[:n_columns])] if header else []
    for kline in klines:
        row = list(kline[:n_columns])
        if microseconds:
            row[0], row[6] = row[0] * 1000, row[6] * 1000 + 999
        lines.append(",".join(map(str, row)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("header", [False, True])
@pytest.mark.parametrize("microseconds", [False, True])
@pytest.mark.parametrize("n_columns", [7, 12])
def test_reads_a_single_csv_in_every_layout(tmp_path, klines, header, microseconds, n_columns):
    path = tmp_path / "BTCUSDT-1d-2024-01.csv"
    path.write_text(dump_text(klines, n_columns, header, microseconds))
    table = read_kline_dump(path)
    bronze = klines_to_bronze(table)
    expected = klines_to_bronze(klines)
    assert list(bronze["open_time"]) == list(expected["open_time"])
    assert list(bronze["close_time"]) == list(expected["close_time"])
    pd.testing.assert_series_equal(bronze["close"], expected["close"])
    if n_columns == 7:
        assert bronze["number_of_trades"].isna().all()
    else:
        pd.testing.assert_series_equal(bronze["number_of_trades"], expected["number_of_trades"])


def test_reads_a_folder_of_monthly_zips_and_csvs(tmp_path: Path, klines):
    months = [klines[:30], klines[30:60], klines[60:]]
    for i, month in enumerate(months[:2]):
        with zipfile.ZipFile(tmp_path / f"BTCUSDT-1d-2024-0{i + 1}.zip", "w") as archive:
            archive.writestr(f"BTCUSDT-1d-2024-0{i + 1}.csv", dump_text(month, microseconds=i == 1))
    (tmp_path / "BTCUSDT-1d-2024-03.csv").write_text(dump_text(months[2], header=True))
    (tmp_path / "README.txt").write_text("not a kline file")
    bronze = klines_to_bronze(read_kline_dump(tmp_path))
    assert list(bronze["open_time"]) == [k[0] for k in klines]


def test_a_header_is_read_by_name_in_any_order(tmp_path: Path, klines):
    order = [0, 4, 2, 3, 1, 5, 6]  # open_time, close, high, low, open, volume, close_time
    names = ["open_time", "close", "high", "low", "open", "volume", "close_time"]
    rows = [",".join(str(k[i]) for i in order) for k in klines]
    path = tmp_path / "prices.csv"
    path.write_text("\n".join([",".join(names), *rows]) + "\n")
    bronze = klines_to_bronze(read_kline_dump(path))
    expected = klines_to_bronze(klines)
    pd.testing.assert_series_equal(bronze["open"], expected["open"])  # not swapped
    pd.testing.assert_series_equal(bronze["close"], expected["close"])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "open_time,open,high,low,price,volume,close_time",
            r"unknown \['price'\].*missing \['close'\]",
        ),
        (
            "open_time,open,high,low,close,close,close_time",
            r"repeated \['close'\].*missing \['volume'\]",
        ),
    ],
)
def test_a_header_with_unknown_or_missing_names_is_refused(tmp_path: Path, klines, header, message):
    path = tmp_path / "prices.csv"
    path.write_text(header + "\n" + dump_text(klines, n_columns=7))
    with pytest.raises(
        ValueError, match=rf"prices.csv: its header has {message}.*Name the columns"
    ):
        read_kline_dump(path)


def test_exact_repeats_across_files_and_within_one_are_dropped(tmp_path: Path, klines, caplog):
    month = dump_text(klines[:30])
    (tmp_path / "BTCUSDT-1d-2024-01.csv").write_text(month)
    with gzip.open(tmp_path / "BTCUSDT-1d-2024-01.csv.gz", "wt") as packed:
        packed.write(month)  # the same month, also gzip'd
    (tmp_path / "BTCUSDT-1d-2024-02.csv").write_text(dump_text(klines[30:]) * 2)  # twice
    with caplog.at_level("WARNING", logger="cryptopythia.sources.dump"):
        bronze = klines_to_bronze(read_kline_dump(tmp_path))
    assert list(bronze["open_time"]) == [k[0] for k in klines]
    assert "dropped 90 exact repeat(s)" in caplog.text


def test_a_candle_twice_with_other_values_names_both_files_and_rows(tmp_path: Path, klines):
    (tmp_path / "BTCUSDT-1d-2024-01.csv").write_text(dump_text(klines[:30]))
    changed = [list(k) for k in klines[20:40]]
    changed[5][4] = str(float(changed[5][4]) * 1.01)  # klines[25]'s close, revised
    (tmp_path / "BTCUSDT-1d-2024-02.csv").write_text(dump_text(changed))
    opened = pd.Timestamp(klines[25][0], unit="ms", tz="UTC")
    with pytest.raises(
        ValueError,
        match=rf"2 rows sharing an open_time with different values; the first, {re.escape(str(opened))}, "
        r"at BTCUSDT-1d-2024-01.csv row 26 and BTCUSDT-1d-2024-02.csv row 6\. Nothing was "
        r"stored\. Keep one copy",
    ) as error:
        read_kline_dump(tmp_path)
    assert "bronze.csv" not in str(error.value)


def test_missing_path_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="dump_path=.*does not exist"):
        read_kline_dump(tmp_path / "nope.csv")


def test_folder_without_kline_files_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No .csv, .csv.gz or .zip kline files"):
        read_kline_dump(tmp_path)


def test_too_few_columns_is_an_error(tmp_path, klines):
    path = tmp_path / "short.csv"
    path.write_text(dump_text(klines, n_columns=5))
    with pytest.raises(ValueError, match="has 5 columns"):
        read_kline_dump(path)


def test_non_numeric_price_is_an_error(tmp_path, klines):
    text = dump_text(klines).replace(str(klines[3][4]), "oops", 1)
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="non-numeric"):
        read_kline_dump(path)


def test_zip_without_a_csv_says_which_file_and_how_to_fix(tmp_path):
    with zipfile.ZipFile(tmp_path / "BTCUSDT-1d-2024-01.zip", "w") as archive:
        archive.writestr("notes.txt", "no klines here")
    message = r"BTCUSDT-1d-2024-01.zip holds no .csv file \(it has: notes.txt\)"
    with pytest.raises(ValueError, match=message):
        read_kline_dump(tmp_path)


@pytest.mark.parametrize(
    "name",
    ["ETHUSDT-1d-2024-01.csv", "BTCUSDT-4h-2024-01.csv", "BTCUSDT-4h-2024-01-31.zip"],
)
def test_binance_named_files_for_another_symbol_or_interval_are_an_error(tmp_path, klines, name):
    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(name.replace(".zip", ".csv"), dump_text(klines))
    else:
        path.write_text(dump_text(klines))
    symbol, interval = name.split("-")[:2]
    with pytest.raises(
        ValueError,
        match=rf"holds {symbol} {interval} candles, but the run asks for "
        r"data_engineering.symbol='BTCUSDT' and interval='1d'",
    ):
        read_kline_dump(tmp_path, "BTCUSDT", "1d")


@pytest.mark.parametrize("name", ["btcusdt_1d.csv", "BTCUSDT-1d-2024-01.csv", "klines.csv"])
def test_matching_or_unpatterned_file_names_are_accepted(tmp_path, klines, name):
    (tmp_path / name).write_text(dump_text(klines))
    assert len(read_kline_dump(tmp_path / name, "BTCUSDT", "1d")) == len(klines)


def test_reads_a_gzipped_csv_like_the_plain_one(tmp_path, klines):
    text = dump_text(klines, n_columns=7, header=True)
    (tmp_path / "plain.csv").write_text(text)
    with gzip.open(tmp_path / "BTCUSDT-1d-2024-01.csv.gz", "wt") as archive:
        archive.write(text)
    pd.testing.assert_frame_equal(
        read_kline_dump(tmp_path / "BTCUSDT-1d-2024-01.csv.gz", "BTCUSDT", "1d"),
        read_kline_dump(tmp_path / "plain.csv"),
    )
    with pytest.raises(ValueError, match="holds BTCUSDT 1d candles"):
        read_kline_dump(tmp_path / "BTCUSDT-1d-2024-01.csv.gz", "BTCUSDT", "4h")


def test_a_folder_mixing_csv_gz_zip_and_csv_is_read_in_name_order(tmp_path, klines):
    with zipfile.ZipFile(tmp_path / "BTCUSDT-1d-2024-01.zip", "w") as archive:
        archive.writestr("BTCUSDT-1d-2024-01.csv", dump_text(klines[:30]))
    with gzip.open(tmp_path / "BTCUSDT-1d-2024-02.csv.gz", "wt") as archive:
        archive.write(dump_text(klines[30:60]))
    (tmp_path / "BTCUSDT-1d-2024-03.csv").write_text(dump_text(klines[60:]))
    (tmp_path / "notes.txt.gz").write_bytes(gzip.compress(b"not a kline file"))
    bronze = klines_to_bronze(read_kline_dump(tmp_path))
    assert list(bronze["open_time"]) == [k[0] for k in klines]


def test_a_csv_gz_that_is_not_gzip_is_named(tmp_path, klines):
    (tmp_path / "btcusdt_1d.csv.gz").write_text(dump_text(klines))
    with pytest.raises(ValueError, match=r"btcusdt_1d.csv.gz is not a complete gzip file"):
        read_kline_dump(tmp_path / "btcusdt_1d.csv.gz")


@pytest.mark.parametrize(
    "path, interval, rows, first, last",
    [
        (DAILY_CANDLES, "1d", 2884, "2017-08-17 00:00", "2025-07-09 00:00"),
        (FOUR_HOUR_CANDLES, "4h", 17830, "2017-08-17 04:00", "2025-10-08 08:00"),
    ],
)
def test_the_shipped_snapshot_holds_the_candles_its_sources_md_lists(
    path, interval, rows, first, last
):
    bronze = klines_to_bronze(read_kline_dump(path, "BTCUSDT", interval))
    opened = pd.to_datetime(bronze["open_time"], unit="ms")
    assert (len(bronze), opened.iloc[0], opened.iloc[-1]) == (
        rows,
        pd.Timestamp(first),
        pd.Timestamp(last),
    )
    assert opened.is_monotonic_increasing and opened.is_unique
    assert list(bronze.columns[bronze.notna().all()]) == [
        "open_time", "open", "high", "low", "close", "volume", "close_time"
    ]  # fmt: skip
