"""bronze -> silver: typing, ordering, duplicates, validation, gaps."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptopythia.candles import fill_gaps, type_candles, validate_candles
from cryptopythia.sources.bronze import klines_to_bronze

from support.fake_binance import make_klines


@pytest.fixture
def bronze() -> pd.DataFrame:
    return klines_to_bronze(make_klines(48, "4h", with_open_candle=False))


def silver_of(bronze, interval="4h", gap_policy="ffill", invalid_rows="raise"):
    return fill_gaps(validate_candles(type_candles(bronze), invalid_rows), interval, gap_policy)


def test_silver_is_typed_sorted_and_flagged(bronze):
    silver = silver_of(bronze)
    assert str(silver["open_time"].dt.tz) == "UTC"
    assert silver["open_time"].is_monotonic_increasing and silver["open_time"].is_unique
    assert silver[["open", "high", "low", "close", "volume"]].dtypes.eq("float64").all()
    assert not silver["was_filled"].any()
    assert len(silver) == 48


def test_unsorted_rows_are_sorted_and_exact_duplicates_dropped(bronze):
    shuffled = pd.concat([bronze.sample(frac=1, random_state=1), bronze.iloc[:5]])
    silver = silver_of(shuffled)
    pd.testing.assert_frame_equal(silver, silver_of(bronze))


def test_conflicting_duplicates_are_an_error(bronze):
    twin = bronze.iloc[[7]].assign(close=bronze["close"].iloc[7] * 1.01)
    twin["high"] = twin[["high", "close"]].max(axis=1)
    with pytest.raises(ValueError, match="sharing an open_time with different values"):
        type_candles(pd.concat([bronze, twin]))


def test_gaps_are_filled_flagged_and_counted(bronze):
    holed = bronze.drop(index=[10, 11, 30])
    silver = silver_of(holed)
    assert len(silver) == 48
    filled = silver[silver["was_filled"]]
    assert list(filled.index) == [10, 11, 30]
    assert (filled["volume"] == 0).all()
    previous_close = silver["close"].shift()[silver["was_filled"]]
    assert (filled["close"] == previous_close.ffill()).all()
    assert (filled[["open", "high", "low"]].to_numpy() == filled[["close"]].to_numpy()).all()
    expected_close_time = filled["open_time"] + pd.Timedelta(hours=4) - pd.Timedelta(milliseconds=1)
    assert (filled["close_time"] == expected_close_time).all()


def test_gap_policies_keep_and_raise(bronze):
    holed = bronze.drop(index=[10])
    assert len(silver_of(holed, gap_policy="keep")) == 47
    with pytest.raises(ValueError, match="1 missing 4h candle"):
        silver_of(holed, gap_policy="raise")
    with pytest.raises(ValueError, match="gap_policy='bfill'"):
        silver_of(holed, gap_policy="bfill")


def test_wrong_interval_is_detected(bronze):
    with pytest.raises(ValueError, match="do not fall on the 1d grid"):
        silver_of(bronze, interval="1d")


@pytest.mark.parametrize(
    "column, value, rule",
    [
        ("close", -5.0, "prices > 0"),
        ("high", 1.0, r"high >= max\(open, close\)"),
        ("low", 10**9, r"low <= min\(open, close\)"),
        ("volume", -1.0, "volume >= 0"),
        ("open", None, "missing"),
    ],
)
def test_invalid_rows_raise_naming_rule_and_row(bronze, column, value, rule):
    broken = bronze.copy()
    broken.loc[5, column] = value
    when = pd.to_datetime(broken.loc[5, "open_time"], unit="ms", utc=True).strftime(
        "%Y-%m-%d %H:%M"
    )
    with pytest.raises(ValueError, match=rf"{rule}: 1 row\(s\), first at \['{when}'\]"):
        silver_of(broken)
    dropped = silver_of(broken, invalid_rows="drop", gap_policy="keep")
    assert len(dropped) == 47


def test_missing_columns_are_named(bronze):
    with pytest.raises(ValueError, match="lacks the column.*close_time"):
        type_candles(bronze.drop(columns=["close_time"]))


def test_same_candle_from_a_7_column_dump_and_the_api_is_a_duplicate_not_a_conflict(bronze):
    dump_rows = bronze.iloc[10:20].copy()
    dump_rows[["quote_asset_volume", "number_of_trades"]] = float("nan")
    candles = type_candles(pd.concat([bronze, dump_rows], ignore_index=True))
    assert len(candles) == 48 and candles["open_time"].is_unique


def test_dropping_every_row_is_a_clear_error(bronze):
    broken = bronze.assign(close=-1.0)
    with pytest.raises(ValueError, match="All 48 candle.*invalid_rows=drop would leave nothing"):
        validate_candles(type_candles(broken), "drop")


def test_fill_gaps_on_an_empty_table_says_what_happened(bronze):
    empty = type_candles(bronze).iloc[0:0]
    with pytest.raises(ValueError, match="No candle left to build silver from"):
        fill_gaps(empty, "4h", "ffill")
