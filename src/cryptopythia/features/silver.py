"""Silver checked as the features' input: its columns, types, holes, order and length."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..candles import REQUIRED_COLUMNS
from .errors import SilverInputError
from .parameters import FeatureConfig

#: the silver columns gold is built from and keeps, in this order (silver's optional
#: Binance columns are not among them)
SILVER_COLUMNS = (*REQUIRED_COLUMNS, "was_filled")
#: the numeric columns among them: prices and volume
OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")


def check_silver(silver: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Check silver (columns, types, NaNs, order, length) and return its gold columns."""
    fix = "silver is written by the data_engineering pipeline: run it first (kedro run --pipeline data_engineering)"
    missing = [column for column in SILVER_COLUMNS if column not in silver.columns]
    if missing:
        raise SilverInputError(
            f"silver lacks the column(s) {missing} (it has {list(silver.columns)}); {fix}."
        )
    candles = silver.loc[:, list(SILVER_COLUMNS)].reset_index(drop=True)
    for column in ("open_time", "close_time"):
        if not isinstance(candles[column].dtype, pd.DatetimeTZDtype):
            raise SilverInputError(
                f"silver column {column!r} has dtype {candles[column].dtype}, not UTC "
                "datetimes: load silver through the catalog (CandleCSVDataset with "
                "datetime_columns) or convert it with pd.to_datetime(..., utc=True)."
            )
    for column in OHLCV_COLUMNS:
        if not pd.api.types.is_numeric_dtype(candles[column].dtype):
            raise SilverInputError(
                f"silver column {column!r} has dtype {candles[column].dtype}, not numbers; {fix}."
            )
    if not pd.api.types.is_bool_dtype(candles["was_filled"].dtype):
        raise SilverInputError(
            f"silver column 'was_filled' has dtype {candles['was_filled'].dtype}, not bool; {fix}."
        )
    for column in ("open_time", *OHLCV_COLUMNS):
        bad = candles[column].isna() if column == "open_time" else ~np.isfinite(candles[column])
        if bad.any():
            where = (
                candles.loc[bad, "open_time"] if column != "open_time" else candles.index[bad]
            ).tolist()[:3]
            raise SilverInputError(
                f"silver column {column!r} has {int(bad.sum())} NaN/infinite value(s) (first "
                f"at {where}); features cannot be computed over holes. Re-run "
                "data_engineering with gap_policy 'ffill' or drop/repair these candles."
            )
    times = candles["open_time"]
    if not (times.is_monotonic_increasing and times.is_unique):
        raise SilverInputError(
            "silver's open_time is not strictly increasing (unsorted or duplicated "
            "candles): sort and de-duplicate it (the data_engineering pipeline does)."
        )
    if (candles["close"] <= 0).any():
        raise SilverInputError(
            f"silver has {int((candles['close'] <= 0).sum())} close price(s) <= 0; log "
            "returns need positive prices. Repair or drop these candles in data_engineering."
        )
    needed = config["warmup"] + 1
    if len(candles) < needed:
        raise SilverInputError(
            f"silver has {len(candles)} rows but the features need {needed}: "
            f"{config['warmup']} warm-up rows for the longest window "
            f"({config['warmup_source']}) plus one row of gold. Fetch more history "
            "(an earlier data_engineering.start_date) or shorten/disable that window."
        )
    candles[list(OHLCV_COLUMNS)] = candles[list(OHLCV_COLUMNS)].astype("float64")
    candles["was_filled"] = candles["was_filled"].astype(bool)  # pandas "boolean" -> numpy bool
    return candles
