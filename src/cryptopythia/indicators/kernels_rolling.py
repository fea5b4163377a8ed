"""Compiled kernels of the trailing-window indicators: rolling mean/std, Bollinger, fast %K.

Each is one pass over the rows (numba, cached on disk) writing into ``out`` arrays; the
windows' sums are short partial sums (no running sum over the history, so no drift) and
flat windows get numpy's two-pass values, bit for bit.
"""

# ``a if a > b else b`` keeps the kernels' NaN behaviour and float operations: not max/min.

from __future__ import annotations

import numpy as np
from numba import njit

from .kernel_cache import cached_njit
from .kernels_sums import JIT, pairwise_sum


@njit(inline="always")
def window_sums(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> int:
    """Mean (and population std if ``std`` is not empty) of each trailing window; returns the flat windows' count.

    The rows are cut in blocks of ``window``; the window ending at t spans the end of the
    previous block and the start of t's block. Both partial sums (<= ``window`` terms, no
    running sum over the history) are of ``x - c``, c = the first value of t's block (a
    value of the window): sum((x - m)^2) = sum((x - c)^2) - sum(x - c)^2 / window then
    loses at most ~``window`` ulps, and a flat window gives 0 exactly. The next block's
    tail sums (``tails[1 - p]``) are built in the loop that adds up this block's heads:
    two independent chains of additions run side by side.
    """
    n, squares, scale = len(values), len(std) > 0, 1.0 / window
    mean[: min(window - 1, n)] = np.nan
    if squares:
        std[: min(window - 1, n)] = np.nan
    tails = np.zeros((2, 2, window + 1))  # [block parity][sum of d, of d^2][offset j to block end]
    flat, p = 0, 0
    for start in range(0, n, window):
        c, q = values[start], 1 - p
        head1 = head2 = 0.0
        if start > 0 and start + window < n:  # a whole block with a next one: no branches
            c_next = values[start + window]
            next1 = next2 = 0.0
            for k in range(window):
                t = start + k
                d = values[t] - c
                head1 += d
                head2 += d * d
                s1 = head1 + tails[p, 0, k + 1]  # the window's first row is at offset k + 1
                mean[t] = c + s1 * scale
                if squares:
                    s2 = head2 + tails[p, 1, k + 1]
                    value = np.sqrt(max((s2 - s1 * s1 * scale) * scale, 0.0))
                    std[t] = value
                    flat += value == 0
                e = values[t + window - 1 - 2 * k] - c_next  # offset window - 1 - k, backwards
                next1 += e
                next2 += e * e
                tails[q, 0, window - 1 - k] = next1
                tails[q, 1, window - 1 - k] = next2
        else:  # the first and the last block
            for t in range(start, min(start + window, n)):
                d = values[t] - c
                head1 += d
                head2 += d * d
                if t >= window - 1:
                    j = t - start + 1
                    s1 = head1 + tails[p, 0, j]
                    mean[t] = c + s1 * scale
                    if squares:
                        s2 = head2 + tails[p, 1, j]
                        value = np.sqrt(max((s2 - s1 * s1 * scale) * scale, 0.0))
                        std[t] = value
                        flat += value == 0
            if start + window < n:
                c_next = values[start + window]
                next1 = next2 = 0.0
                for j in range(window - 1, -1, -1):
                    e = values[start + j] - c_next
                    next1 += e
                    next2 += e * e
                    tails[q, 0, j] = next1
                    tails[q, 1, j] = next2
        p = q
    return flat


@njit(inline="always")
def fix_flat(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> None:
    """Give each flat window (std 0: its last value repeated) numpy's two-pass mean and std of it, bit for bit.

    ``np.mean``/``np.std`` of ``window`` copies of x: pairwise sums divided by ``window``,
    the std of the squared deviations from that mean (its rounding, ~1e-12 of x).
    """
    copies = np.empty(window)
    for t in range(window - 1, len(std)):
        if std[t] == 0:
            copies[:] = values[t]
            m = pairwise_sum(copies, 0, window) / window
            d = values[t] - m
            copies[:] = d * d
            mean[t] = m
            std[t] = np.sqrt(pairwise_sum(copies, 0, window) / window)


@cached_njit(**JIT)
def rolling_moments(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> int:
    """Mean (and population std if ``std`` is not empty) of each trailing window, flat ones fixed (``fix_flat``); returns their count."""
    flat = window_sums(values, window, mean, std)
    if flat:
        fix_flat(values, window, mean, std)
    return flat


@cached_njit(**JIT)
def short_rolling_mean(values: np.ndarray, window: int, out: np.ndarray) -> None:
    """Mean of each trailing window summed directly, left to right (for short windows: SIMD, no carry)."""
    out[: window - 1] = np.nan
    for t in range(window - 1, len(values)):
        total = values[t - window + 1]
        for i in range(t - window + 2, t + 1):
            total += values[i]
        out[t] = total / window


@cached_njit(**JIT)
def stochastic_fast_k(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, out: np.ndarray
) -> None:
    """Fast %K = 100 (close - lowest low) / (highest high - lowest low), 50 when flat; rolling max/min by blocks."""
    n = len(close)
    out[: window - 1] = np.nan
    tail_high, tail_low = np.full(window + 1, -np.inf), np.full(window + 1, np.inf)
    for start in range(0, n, window):
        if start > 0:
            for j in range(window - 1, -1, -1):
                up, down = high[start - window + j], low[start - window + j]
                tail_high[j] = up if up > tail_high[j + 1] else tail_high[j + 1]
                tail_low[j] = down if down < tail_low[j + 1] else tail_low[j + 1]
        head_high, head_low = -np.inf, np.inf
        for t in range(start, min(start + window, n)):
            head_high = high[t] if high[t] > head_high else head_high
            head_low = low[t] if low[t] < head_low else head_low
            if t >= window - 1:
                j = t - start + 1
                highest = head_high if head_high > tail_high[j] else tail_high[j]
                lowest = head_low if head_low < tail_low[j] else tail_low[j]
                spread = highest - lowest
                out[t] = 100 * (0.5 if spread == 0 else (close[t] - lowest) / spread)


@cached_njit(**JIT)
def bollinger(
    close: np.ndarray,
    window: int,
    num_std: float,
    middle: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    percent_b: np.ndarray,
    bandwidth: np.ndarray,
) -> int:
    """Bollinger bands in one call: ``window_sums`` (the std held in ``bandwidth``; flat windows as ``fix_flat``), then the bands."""
    flat = window_sums(close, window, middle, bandwidth)
    if flat:
        fix_flat(close, window, middle, bandwidth)
    for t in range(len(close)):  # the bands' operations (NaN in, NaN out), vectorised from row 0
        std, mid = bandwidth[t], middle[t]
        up, down = mid + num_std * std, mid - num_std * std
        width = up - down
        upper[t], lower[t] = up, down
        percent_b[t] = 0.5 if width == 0 else (close[t] - down) / width
        bandwidth[t] = width / mid
    return flat
