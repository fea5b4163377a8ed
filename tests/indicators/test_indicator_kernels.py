"""The compiled indicator kernels against plain pandas/numpy definitions, beyond the default parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cryptopythia import indicators

from support.feature_candles import generated_silver


@pytest.fixture(scope="module")
def candles() -> tuple[np.ndarray, ...]:
    silver = generated_silver(700, seed=5)
    silver.loc[300:340, ["open", "high", "low", "close"]] = 21_000.0  # a flat stretch
    return tuple(silver[c].to_numpy() for c in ("high", "low", "close", "volume"))


def _pandas_ema(
    values: np.ndarray, alpha: float, initial_window: int, initial_row: int
) -> np.ndarray:
    out = np.full(len(values), np.nan)
    tail = values[initial_row:].copy()
    tail[0] = values[initial_row - initial_window + 1 : initial_row + 1].mean()
    out[initial_row:] = pd.Series(tail).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


@pytest.mark.parametrize(("span", "initial_row"), [(3, 2), (12, 11), (50, 60)])
def test_ema_with_initial_mean_is_pandas_ewm_bit_for_bit(candles, span, initial_row):
    close = candles[2]
    expected = _pandas_ema(close, 2 / (span + 1), span, initial_row)
    ours = indicators.ema_with_initial_mean(close, 2 / (span + 1), span, initial_row)
    np.testing.assert_array_equal(ours, expected)


def test_ema_with_initial_mean_skips_nan_as_pandas_does(candles):
    values = candles[2].copy()
    values[[100, 101, 250]] = np.nan
    expected = _pandas_ema(values, 0.1, 10, 20)
    ours = indicators.ema_with_initial_mean(values, 0.1, 10, 20)
    np.testing.assert_allclose(ours, expected, rtol=1e-14)


@pytest.mark.parametrize("window", [2, 5, 8, 9, 20, 64])
def test_rolling_mean_std_is_the_two_pass_of_each_window(candles, window):
    close = candles[2]
    mean, std = indicators.rolling_mean_std(close, window)
    windows = sliding_window_view(close, window)
    assert np.isnan(mean[: window - 1]).all() and np.isnan(std[: window - 1]).all()
    np.testing.assert_allclose(mean[window - 1 :], windows.mean(axis=1), rtol=1e-14, atol=0)
    np.testing.assert_allclose(std[window - 1 :], windows.std(axis=1), rtol=1e-12, atol=0)
    np.testing.assert_allclose(indicators.rolling_mean(close, window), mean, rtol=1e-14)


@pytest.mark.parametrize(
    ("k_window", "k_smoothing", "d_window"), [(14, 3, 3), (5, 1, 12), (21, 9, 2)]
)
def test_stochastic_matches_pandas_rolling(candles, k_window, k_smoothing, d_window):
    high, low, close, _ = (pd.Series(values) for values in candles)
    highest, lowest = high.rolling(k_window).max(), low.rolling(k_window).min()
    spread = highest - lowest
    fast_k = 100 * ((close - lowest) / spread).where(spread != 0, 0.5)
    k = fast_k.rolling(k_smoothing).mean()
    d = k.rolling(d_window).mean()
    ours_k, ours_d = indicators.stochastic(*candles[:3], k_window, k_smoothing, d_window)
    np.testing.assert_allclose(ours_k, k, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(ours_d, d, rtol=1e-12, atol=1e-10)


def test_short_inputs_give_nan_not_garbage():
    close = np.linspace(100.0, 110.0, 12)
    for values in (
        indicators.ema_with_initial_mean(close, 0.1, 20, 19),
        indicators.rsi(close, 14),
        indicators.atr(close + 1, close - 1, close, 14),
        *indicators.macd(close, 12, 26, 9),
        *indicators.rolling_mean_std(close, 20),
        *indicators.stochastic(close + 1, close - 1, close, 14, 3, 3),
        indicators.stochastic(close + 1, close - 1, close, 5, 3, 9)[1],  # %K is defined, %D is not
        indicators.roc(close, 12),
    ):
        assert len(values) == 12 and np.isnan(values).all()
    k, d = indicators.stochastic(close + 1, close - 1, close, 5, 3, 3)
    assert np.isnan(k[:6]).all() and np.isfinite(k[6:]).all()
    assert np.isnan(d[:8]).all() and np.isfinite(d[8:]).all()
    np.testing.assert_array_equal(indicators.obv(close, np.ones(12)), np.arange(1.0, 13.0))
