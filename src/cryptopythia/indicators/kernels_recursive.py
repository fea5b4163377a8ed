"""Compiled kernels of the recursive indicators: EMA, Wilder's RSI and ATR, MACD, ROC, OBV.

Each is one pass over the rows (numba, cached on disk) writing into ``out`` arrays;
the float operations are those of pandas' ``ewm(adjust=False)`` and numpy, bit for bit.
An EMA starts from an initial value, the mean of its first window (as TA-Lib's), at the
row where that window ends.
"""

# ruff: noqa: B020
# ``x != x`` is numba's NaN test and ``for i in range(i, n)`` resumes a loop: both on purpose.

from __future__ import annotations

import numpy as np
from numba import njit

from .kernel_cache import cached_njit
from .kernels_sums import JIT, mean_of


@njit(inline="always")
def ewm_step(weighted: float, old_wt: float, cur: float, alpha: float) -> tuple[float, float]:
    """One step of pandas' ``ewm(alpha=alpha, adjust=False).mean()``, bit for bit (NaN skipped)."""
    old_wt *= 1.0 - alpha
    if cur == cur:
        if weighted != cur:  # pandas leaves a constant series exactly constant
            weighted = old_wt * weighted + alpha * cur
            total = old_wt + alpha
            if total != 1.0:  # it is 1.0 but after a NaN; x / 1.0 == x
                weighted /= total
        old_wt = 1.0
    return weighted, old_wt


@njit(inline="always")
def is_plain(alpha: float) -> bool:
    """Whether ``ewm_step`` with ``alpha``, while no NaN has come, is ``weighted = (1 - alpha) * weighted + alpha * cur``.

    After a non-NaN value its weight is 1, ``old_wt = 1.0 * (1 - alpha)``, and it divides
    by ``old_wt + alpha`` unless that is exactly 1 (true for the usual 2 / (n + 1), 1 / n).
    """
    return (1.0 - alpha) + alpha == 1.0


@njit(inline="always")
def fmax(a: float, b: float) -> float:
    """``np.fmax(a, b)``: the larger, NaN ignored."""
    return b if (a < b or a != a) else a


@cached_njit(**JIT)
def ewm_from_mean(
    values: np.ndarray, alpha: float, initial_window: int, initial_row: int, out: np.ndarray
) -> None:
    """``ewm_from`` starting from the mean of the ``initial_window`` values ending at ``initial_row`` (all NaN if too short)."""
    if initial_row >= len(values):
        out[:] = np.nan
        return
    initial = mean_of(values, initial_row - initial_window + 1, initial_window)
    ewm_from(values, alpha, initial, initial_row, out)


@cached_njit(**JIT)
def ewm_from(values: np.ndarray, alpha: float, initial: float, start: int, out: np.ndarray) -> None:
    """``out[start:]``: the EMA of ``values[start + 1:]`` starting from ``initial``; NaN before."""
    out[:start] = np.nan
    weighted, old_wt = initial, 1.0
    out[start] = weighted
    for i in range(start + 1, len(values)):
        weighted, old_wt = ewm_step(weighted, old_wt, values[i], alpha)
        out[i] = weighted


@cached_njit(**JIT)
def rsi_from(close: np.ndarray, window: int, gain: float, loss: float, out: np.ndarray) -> None:
    """Wilder's RSI from the initial average gain and loss at ``window``: gains/losses, both EMAs and the ratio in one pass."""
    alpha = 1 / window
    out[:window] = np.nan
    gain_wt = loss_wt = 1.0
    for i in range(window, len(close)):
        if i > window:
            change = close[i] - close[i - 1]
            gain, gain_wt = ewm_step(gain, gain_wt, change if change > 0 else 0.0, alpha)
            loss, loss_wt = ewm_step(loss, loss_wt, -change if change < 0 else 0.0, alpha)
        total = gain + loss
        out[i] = 100 * (0.5 if total == 0 else gain / total)


@cached_njit(**JIT)
def atr_from(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    window: int,
    initial: float,
    out: np.ndarray,
) -> None:
    """Wilder's ATR from its initial value ``initial`` at ``window``: true range and EMA in one pass."""
    alpha = 1 / window
    out[:window] = np.nan
    atr, old_wt = initial, 1.0
    out[window] = atr
    for i in range(window + 1, len(close)):
        previous = close[i - 1]
        true_range = max(high[i] - low[i], max(abs(high[i] - previous), abs(low[i] - previous)))
        atr, old_wt = ewm_step(atr, old_wt, true_range, alpha)
        out[i] = atr


@cached_njit(**JIT)
def macd(
    close: np.ndarray,
    fast: int,
    slow: int,
    signal: int,
    line: np.ndarray,
    signal_line: np.ndarray,
    histogram: np.ndarray,
) -> None:
    """MACD line, signal and histogram in one pass, initial values included (the rows' numpy means, bit for bit)."""
    n = len(close)
    start = slow - 1  # the line's first row; the signal's is ``start + signal - 1``
    line[: min(start, n)] = np.nan
    signal_line[: min(start + signal - 1, n)] = np.nan
    histogram[: min(start + signal - 1, n)] = np.nan
    if start >= n:
        return
    fast_alpha, slow_alpha, signal_alpha = 2 / (fast + 1), 2 / (slow + 1), 2 / (signal + 1)
    fast_ema, slow_ema = mean_of(close, slow - fast, fast), mean_of(close, 0, slow)
    fast_wt = slow_wt = signal_wt = 1.0
    line[start] = fast_ema - slow_ema
    signal_row = start + signal - 1
    for i in range(start + 1, min(signal_row + 1, n)):  # the line alone until the signal starts
        fast_ema, fast_wt = ewm_step(fast_ema, fast_wt, close[i], fast_alpha)
        slow_ema, slow_wt = ewm_step(slow_ema, slow_wt, close[i], slow_alpha)
        line[i] = fast_ema - slow_ema
    if signal_row >= n:
        return
    ema = mean_of(line, start, signal)
    signal_line[signal_row], histogram[signal_row] = ema, line[signal_row] - ema
    i = signal_row + 1
    if is_plain(fast_alpha) and is_plain(slow_alpha) and is_plain(signal_alpha):
        fast_keep, slow_keep, signal_keep = 1.0 - fast_alpha, 1.0 - slow_alpha, 1.0 - signal_alpha
        while i < n:  # ``ewm_step``'s operations while no NaN comes (fewer of them: faster)
            x = close[i]
            new_fast = fast_ema if fast_ema == x else fast_keep * fast_ema + fast_alpha * x
            new_slow = slow_ema if slow_ema == x else slow_keep * slow_ema + slow_alpha * x
            value = new_fast - new_slow
            if x != x or value != value:
                break  # row i again, the general way
            fast_ema, slow_ema = new_fast, new_slow
            if ema != value:
                ema = signal_keep * ema + signal_alpha * value
            line[i], signal_line[i], histogram[i] = value, ema, value - ema
            i += 1
    for i in range(i, n):
        fast_ema, fast_wt = ewm_step(fast_ema, fast_wt, close[i], fast_alpha)
        slow_ema, slow_wt = ewm_step(slow_ema, slow_wt, close[i], slow_alpha)
        value = fast_ema - slow_ema
        ema, signal_wt = ewm_step(ema, signal_wt, value, signal_alpha)
        line[i], signal_line[i], histogram[i] = value, ema, value - ema


@cached_njit(**JIT)
def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, out: np.ndarray) -> None:
    """Wilder's ATR, its initial value (mean true range of rows 1..window, as numpy sums it) included."""
    n = len(close)
    if window >= n:
        out[:] = np.nan
        return
    for i in range(1, window + 1):  # out[1..window] holds the first true ranges for a moment
        previous = close[i - 1]
        out[i] = fmax(high[i] - low[i], fmax(abs(high[i] - previous), abs(low[i] - previous)))
    initial = mean_of(out, 1, window)
    atr_from(high, low, close, window, initial, out)


@cached_njit(**JIT)
def rsi(close: np.ndarray, window: int, out: np.ndarray) -> None:
    """Wilder's RSI, its initial values (mean gain and loss of the first window, as numpy sums them) included."""
    n = len(close)
    if window >= n:
        out[:] = np.nan
        return
    for i in range(1, window + 1):  # out[0..window-1]: gains, then losses, for a moment
        change = close[i] - close[i - 1]
        out[i - 1] = change if (change > 0 or change != change) else 0.0
    gain = mean_of(out, 0, window)
    for i in range(1, window + 1):
        change = -(close[i] - close[i - 1])
        out[i - 1] = change if (change > 0 or change != change) else 0.0
    loss = mean_of(out, 0, window)
    rsi_from(close, window, gain, loss, out)


@cached_njit(**JIT)
def roc(close: np.ndarray, window: int, out: np.ndarray) -> None:
    """``100 * (close_t / close_{t - window} - 1)`` (numpy's three steps, one pass); NaN for the first ``window`` rows."""
    n = len(close)
    out[: min(window, n)] = np.nan
    for t in range(window, n):
        out[t] = (close[t] / close[t - window] - 1) * 100


@cached_njit(**JIT)
def obv(close: np.ndarray, volume: np.ndarray, out: np.ndarray) -> None:
    """On-Balance Volume: running sum of the volume signed by the close's move (row 0 counts +)."""
    total = volume[0]
    out[0] = total
    for i in range(1, len(close)):
        change = close[i] - close[i - 1]
        total += (np.float64(change > 0) - np.float64(change < 0)) * volume[i]  # np.sign
        out[i] = total
