"""Technical indicators on arrays, TA-Lib-compatible: each returns arrays aligned with its
input (same length), NaN during its warm-up.

Exponential averages (EMA, MACD, Wilder's RSI/ATR) start, as TA-Lib's do, from an initial
value: the mean of the first ``n`` values, at the row where those end. So the values agree
with TA-Lib from the first defined row on. The recursive and rolling indicators run the
compiled kernels of ``kernels_recursive`` and ``kernels_rolling``; the rest is numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from . import kernels_recursive as recursive
from . import kernels_rolling as rolling

_CHUNK_ROWS = 65_536  # sliding windows processed at once (bounds the memory)
_SHORT_WINDOW = 8  # rolling means of windows up to this length are summed directly


def _warmup_only(shape: int | tuple[int, int], warmup: int) -> np.ndarray:
    """An uninitialised float array for kernels that write every row, all NaN if its rows <= ``warmup``."""
    rows = shape if isinstance(shape, int) else shape[-1]
    return np.empty(shape) if warmup < rows else np.full(shape, np.nan)


def _floats(values: Any) -> np.ndarray:
    """``values`` as a contiguous float64 array (no copy if it is one already)."""
    return np.ascontiguousarray(values, dtype=np.float64)


def _mean_into(values: np.ndarray, window: int, out: np.ndarray) -> None:
    """Trailing ``window`` means of ``values`` into ``out`` (same length), NaN warm-up included."""
    if window <= _SHORT_WINDOW:
        rolling.short_rolling_mean(values, window, out)
    else:
        rolling.rolling_moments(values, window, out, np.empty(0))


def ema_with_initial_mean(
    values: np.ndarray, alpha: float, initial_window: int, initial_row: int
) -> np.ndarray:
    """EMA with ``alpha`` whose first value, at ``initial_row``, is the mean of the ``initial_window`` values ending there."""
    values = _floats(values)
    out = np.empty(len(values))
    # writes every row, NaN warm-up included
    recursive.ewm_from_mean(values, alpha, initial_window, initial_row, out)
    return out


def ema(values: np.ndarray, span: int) -> np.ndarray:
    """TA-Lib's EMA: alpha = 2 / (span + 1), first value at row ``span - 1`` = the mean of the first ``span``."""
    return ema_with_initial_mean(values, 2 / (span + 1), span, span - 1)


def rsi(close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI: 100 * avg gain / (avg gain + avg loss); 50 when the window is flat."""
    close = _floats(close)
    out = np.empty(len(close))
    recursive.rsi(close, window, out)  # initial values: mean gain and loss of the first window
    return out


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, ...]:
    """MACD line (EMA fast - EMA slow, both starting at ``slow - 1`` as TA-Lib's do), signal, histogram."""
    close = _floats(close)
    line, signal_line, histogram = np.empty(len(close)), np.empty(len(close)), np.empty(len(close))
    # one pass, initial values included
    recursive.macd(close, fast, slow, signal, line, signal_line, histogram)
    return line, signal_line, histogram


def rolling_mean_std(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of each trailing window, from short shifted sums (no drift; see ``kernels_rolling.window_sums``).

    A flat window gets numpy's two-pass values of that window (its mean's rounding, ~1e-12
    of std), exactly as before.
    """
    values = _floats(values)
    mean, std = np.empty((2, len(values)))
    rolling.rolling_moments(values, window, mean, std)  # writes every row, NaN warm-up included
    return mean, std


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each trailing window (NaN while the window holds a NaN)."""
    values, mean = _floats(values), _warmup_only(len(values), window - 1)
    if window <= len(values):
        _mean_into(values, window, mean)
    return mean


def bollinger(close: np.ndarray, window: int, num_std: float) -> tuple[np.ndarray, ...]:
    """Bollinger middle/upper/lower bands (SMA +- num_std * population std), %B (0.5 when flat) and bandwidth."""
    close = _floats(close)
    n = len(close)
    bands = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    rolling.bollinger(close, window, float(num_std), *bands)  # one pass of sums, one of bands
    return bands


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's Average True Range; the first true range is at row 1 (it needs a previous close)."""
    high, low, close = _floats(high), _floats(low), _floats(close)
    out = np.empty(len(close))
    # initial value: mean true range of the first window
    recursive.atr(high, low, close, window, out)
    return out


def stochastic(
    high: np.ndarray | pd.Series,
    low: np.ndarray | pd.Series,
    close: np.ndarray | pd.Series,
    k_window: int,
    k_smoothing: int,
    d_window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic %K (smoothed by an SMA of ``k_smoothing``) and %D (SMA of %K); 50 when flat."""
    high, low, close = _floats(high), _floats(low), _floats(close)
    k, d = _warmup_only((2, len(close)), k_window + k_smoothing + d_window - 3)
    fast_k = d if k_smoothing > 1 else k  # d's rows hold fast %K until %K is computed
    start = k_window - 1  # the first row of fast %K, then of %K, then of %D
    if start < len(close):
        rolling.stochastic_fast_k(high, low, close, k_window, fast_k)
    if k_smoothing > 1:
        k[:start] = np.nan
        _mean_into(fast_k[start:], k_smoothing, k[start:])
    start += k_smoothing - 1
    d[:start] = np.nan
    _mean_into(k[start:], d_window, d[start:])
    return k, d


def obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-Balance Volume: running sum of volume signed by the close's move, from row 0's volume."""
    close, volume = _floats(close), _floats(volume)
    out = np.empty(len(close))
    if len(close):
        recursive.obv(close, volume, out)
    return out


def roc(close: np.ndarray, window: int) -> np.ndarray:
    """Rate of change in percent, 100 * (close_t / close_{t - window} - 1); NaN for the first ``window`` rows."""
    close = _floats(close)
    out = np.empty(len(close))
    recursive.roc(close, window, out)
    return out


def lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """``values`` shifted ``lag`` rows down (row t holds row t - lag), NaN on top."""
    out = np.full(len(values), np.nan)
    out[lag:] = values[: len(values) - lag]
    return out


def log_return(close: np.ndarray) -> np.ndarray:
    """log(close_t / close_{t-1}); NaN at row 0."""
    return np.diff(np.log(close), prepend=np.nan)


def fft_dominant(
    returns: np.ndarray, window: int, n_components: int
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes and periods (candles) of the ``n_components`` strongest frequencies of each trailing window.

    Row t uses ``returns[t - window + 1 .. t]``; the constant (DC) term is left out; ties
    go to the lower frequency. Both outputs have shape ``(len(returns), n_components)``.
    """
    n = len(returns)
    amplitudes = np.full((n, n_components), np.nan)
    periods = np.full((n, n_components), np.nan)
    windows = sliding_window_view(returns[1:], window)  # row j ends at t = j + window
    for start in range(0, len(windows), _CHUNK_ROWS):  # chunks of rows, not rows
        spectrum = np.abs(np.fft.rfft(windows[start : start + _CHUNK_ROWS], axis=1))[:, 1:]
        top = np.argsort(-spectrum, axis=1, kind="stable")[:, :n_components]
        rows = slice(start + window, start + window + len(spectrum))
        amplitudes[rows] = 2 / window * np.take_along_axis(spectrum, top, axis=1)
        periods[rows] = window / (top + 1)
    return amplitudes, periods
