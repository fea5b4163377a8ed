"""Indicator values against TA-Lib (the independent, test-only reference) on real BTCUSDT candles.

The exponential averages start from TA-Lib's initial values, so every value agrees from
the first defined row on, warm-up included: the comparison runs on the features before
the warm-up is dropped, and the undefined rows must be the same as TA-Lib's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptopythia.features import check_parameters, check_silver, compute_features

from support.feature_candles import real_silver

talib = pytest.importorskip("talib")


def _talib_features(silver: pd.DataFrame) -> dict[str, np.ndarray]:
    high, low, close, volume = (
        silver[c].to_numpy(dtype="float64") for c in ("high", "low", "close", "volume")
    )
    macd, macd_signal, macd_hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    slow_k, slow_d = talib.STOCH(high, low, close, 14, 3, 0, 3, 0)
    reference = {
        "rsi_14": talib.RSI(close, 14),
        "macd": macd, "macd_signal": macd_signal, "macd_hist": macd_hist,
        "bb_middle_20": middle, "bb_upper_20": upper, "bb_lower_20": lower,
        "bb_percent_b_20": (close - lower) / (upper - lower),
        "bb_bandwidth_20": (upper - lower) / middle,
        "atr_14": talib.ATR(high, low, close, 14),
        "stoch_k_14": slow_k, "stoch_d_14": slow_d,
        "obv": talib.OBV(close, volume),
        "roc_10": talib.ROC(close, 10),
    }  # fmt: skip
    for window in (7, 14, 30):
        reference[f"sma_{window}"] = talib.SMA(close, window)
        reference[f"std_{window}"] = talib.STDDEV(close, window, 1.0)
    for span in (12, 26, 50):
        reference[f"ema_{span}"] = talib.EMA(close, span)
    return reference


@pytest.mark.parametrize("interval", ["1d", "4h"])
def test_indicators_match_talib(feature_params, interval):
    silver = real_silver(interval)
    config = check_parameters(feature_params, interval)
    ours = compute_features(check_silver(silver, config), config)
    reference = _talib_features(silver)

    assert len(reference) == 23
    for name, expected in reference.items():
        actual = ours[name].to_numpy()
        # Same undefined warm-up rows as TA-Lib; except that TA-Lib hides the MACD line
        # and %K until the signal / %D are defined (it aligns its outputs), ours start
        # as soon as they are defined (MACD 8 rows, %K 2 rows earlier).
        first = int(np.argmax(~np.isnan(expected)))
        if name not in ("macd", "stoch_k_14"):
            assert np.isnan(actual[:first]).all() and not np.isnan(actual[first]).any(), name
        # Relative 1e-9, with an absolute floor for values crossing 0 (MACD, ROC) and for
        # TA-Lib's STDDEV, a running sum of squares (~1e-10 off on 100k-dollar prices).
        rtol = 1e-9
        scale = np.nanmax(np.abs(expected))
        np.testing.assert_allclose(
            actual[first:], expected[first:], rtol=rtol, atol=rtol * scale, err_msg=name
        )


def test_rolling_std_is_the_population_std_of_the_trailing_window(feature_params):
    """The exact two-pass std of each window (numpy) as the ground truth for std_<w>."""
    four_hour_silver = real_silver("4h")  # with flat, forward-filled gaps (std exactly 0)
    config = check_parameters(feature_params, "4h")
    ours = compute_features(check_silver(four_hour_silver, config), config)
    close = four_hour_silver["close"].to_numpy()
    for window in (7, 14, 30):
        exact = np.lib.stride_tricks.sliding_window_view(close, window).std(axis=1)
        np.testing.assert_allclose(
            ours[f"std_{window}"].to_numpy()[window - 1 :], exact, rtol=1e-12, atol=0
        )
