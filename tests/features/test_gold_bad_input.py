"""Silver -> gold (cryptopythia.features) on bad input: the silver it refuses and the
parameters it names."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.features import (
    FeatureConfigError,
    SilverInputError,
    build_gold,
    check_parameters,
)

from support.feature_candles import generated_silver


def test_missing_silver_columns_are_named(feature_params):
    silver = generated_silver(100).drop(columns=["volume", "was_filled"])
    with pytest.raises(
        SilverInputError, match=r"lacks the column\(s\) \['volume', 'was_filled'\].*run it first"
    ):
        build_gold(silver, feature_params, "1d")


def test_too_few_rows_names_the_longest_window(feature_params):
    with pytest.raises(
        SilverInputError,
        match=r"silver has 64 rows but the features need 65: 64 warm-up rows for the longest "
        r"window \(feature_engineering.fft.window=64\).*earlier data_engineering.start_date",
    ):
        build_gold(generated_silver(64), feature_params, "1d")


@pytest.mark.parametrize(
    ("column", "value"), [("close", np.nan), ("volume", np.nan), ("high", np.inf)]
)
def test_nan_in_silver_is_named(feature_params, column, value):
    silver = generated_silver(100)
    silver.loc[70, column] = value
    with pytest.raises(
        SilverInputError,
        match=rf"silver column '{column}' has 1 NaN/infinite value\(s\) \(first at \[Timestamp\('2020-03-11",
    ):
        build_gold(silver, feature_params, "1d")


def test_unsorted_or_naive_silver_is_refused(feature_params):
    silver = generated_silver(100)
    with pytest.raises(SilverInputError, match="not strictly increasing"):
        build_gold(silver.iloc[::-1], feature_params, "1d")
    with pytest.raises(
        SilverInputError, match="'open_time' has dtype datetime64.*not UTC datetimes"
    ):
        build_gold(
            silver.assign(open_time=silver["open_time"].dt.tz_localize(None)), feature_params, "1d"
        )


@pytest.mark.parametrize(
    ("family", "key", "value", "message"),
    [
        (
            "rsi",
            "window",
            0,
            r"feature_engineering.rsi.window=0 is invalid: it must be a whole number > 0",
        ),
        ("atr", "window", -3, r"feature_engineering.atr.window=-3 is invalid"),
        (
            "rolling",
            "windows",
            [7, -1],
            r"feature_engineering.rolling.windows=\[7, -1\] is invalid: it must be a non-empty list",
        ),
        ("ema", "spans", [], r"feature_engineering.ema.spans=\[\] is invalid"),
        (
            "fourier",
            "periods_days",
            [7, 0.0],
            r"feature_engineering.fourier.periods_days=\[7, 0.0\] is invalid: it must be a non-empty list of distinct numbers > 0",
        ),
        ("fft", "window", 0, r"feature_engineering.fft.window=0 is invalid"),
        (
            "bollinger",
            "num_std",
            -2.0,
            r"feature_engineering.bollinger.num_std=-2.0 is invalid: it must be a number > 0",
        ),
        (
            "stochastic",
            "k_window",
            2.5,
            r"feature_engineering.stochastic.k_window=2.5 is invalid: it must be a whole number",
        ),
        (
            "macd",
            "fast",
            30,
            r"feature_engineering.macd.fast=30 must be smaller than feature_engineering.macd.slow=26",
        ),
        ("rsi", "windw", 14, r"unknown key\(s\) \['windw'\] in parameter feature_engineering.rsi"),
        (
            "lags",
            "enabled",
            "yes",
            r"feature_engineering.lags.enabled='yes' is invalid: it must be true or false",
        ),
    ],
)
def test_bad_parameters_are_named(feature_params, family, key, value, message):
    feature_params[family][key] = value
    with pytest.raises(FeatureConfigError, match=message):
        check_parameters(feature_params, "1d")


def test_bad_interval_and_missing_blocks(feature_params):
    with pytest.raises(
        FeatureConfigError, match=r"data_engineering.interval='4x' is not a Binance interval"
    ):
        check_parameters(feature_params, "4x")
    del feature_params["fft"]
    with pytest.raises(FeatureConfigError, match=r"lacks the block\(s\) \['fft'\]"):
        check_parameters(feature_params, "1d")
