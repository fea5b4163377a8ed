"""The fused kernels (initial values computed inside, one pass per indicator) give the unfused values bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia import indicators
from cryptopythia.indicators.kernels_sums import pairwise_sum

from support.feature_candles import generated_silver


@pytest.fixture(scope="module")
def candles() -> tuple[np.ndarray, ...]:
    silver = generated_silver(900, seed=11)
    silver.loc[300:340, ["open", "high", "low", "close"]] = 21_000.0  # a flat stretch
    return tuple(silver[c].to_numpy() for c in ("high", "low", "close"))


def test_pairwise_sum_is_numpys_sum_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in [*range(1, 300), 1_000, 4_097, 65_537]:
        values = rng.standard_normal(n + 3) * 10 ** rng.uniform(-3, 5) + rng.uniform(-1e4, 1e4)
        assert pairwise_sum(values, 3, n) == values[3:].sum(), n


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 1), (5, 35, 5)])
@pytest.mark.parametrize("hole", [None, 200])
def test_macd_is_its_emas_with_initial_means_bit_for_bit(candles, fast, slow, signal, hole):
    close = candles[2].copy()
    if hole is not None:
        close[hole] = np.nan  # leaves the no-NaN fast path for ``ewm_step``'s
    ema = indicators.ema_with_initial_mean
    line = ema(close, 2 / (fast + 1), fast, slow - 1) - ema(close, 2 / (slow + 1), slow, slow - 1)
    signal_line = ema(line, 2 / (signal + 1), signal, slow + signal - 2)
    for ours, expected in zip(
        indicators.macd(close, fast, slow, signal),
        (line, signal_line, line - signal_line),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize(("window", "num_std"), [(20, 2.0), (7, 1.5), (2, 3.0)])
def test_bollinger_is_rolling_mean_std_bit_for_bit(candles, window, num_std):
    close = candles[2]
    middle, std = indicators.rolling_mean_std(close, window)
    upper, lower = middle + num_std * std, middle - num_std * std
    width = upper - lower
    with np.errstate(invalid="ignore", divide="ignore"):
        percent_b = np.where(width == 0, 0.5, (close - lower) / width)
    percent_b[np.isnan(middle)] = np.nan
    expected = (middle, upper, lower, percent_b, width / middle)
    for ours, reference in zip(indicators.bollinger(close, window, num_std), expected, strict=True):
        np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize("window", [1, 3, 20])
def test_flat_windows_get_numpys_two_pass_values_bit_for_bit(candles, window):
    close = candles[2]
    mean, std = indicators.rolling_mean_std(close, window)
    flat = np.flatnonzero(std == 0)
    assert len(flat) > 0
    copies = np.repeat(close[flat], window).reshape(len(flat), window)
    np.testing.assert_array_equal(mean[flat], copies.mean(axis=1))
    np.testing.assert_array_equal(std[flat], copies.std(axis=1))


@pytest.mark.parametrize("window", [1, 14, 30])
def test_initial_values_inside_the_kernels_are_numpys_means(candles, window):
    high, low, close = candles
    change = np.diff(close[: window + 1])
    gain, loss = np.clip(change, 0, None).mean(), np.clip(-change, 0, None).mean()
    rsi = indicators.rsi(close, window)
    assert rsi[window] == 100 * (0.5 if gain + loss == 0 else gain / (gain + loss))
    first = slice(1, window + 1)
    true_range = np.fmax(
        high[first] - low[first],
        np.fmax(np.abs(high[first] - close[:window]), np.abs(low[first] - close[:window])),
    )
    atr = indicators.atr(high, low, close, window)
    assert atr[window] == true_range.mean()
    assert np.isnan(atr[:window]).all() and np.isnan(rsi[:window]).all()
