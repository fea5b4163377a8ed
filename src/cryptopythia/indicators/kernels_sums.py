"""numpy's float64 summation, bit for bit, for the compiled kernels (numba, cached on disk).

A recursion such as an EMA cannot be vectorised in numpy without extra passes; each
kernel of ``kernels_recursive`` and ``kernels_rolling`` is one pass over the rows, as
TA-Lib's C is, with the float operations of the numpy/pandas code it replaces. Their
means (EMA initial values, flat rolling windows) are numpy's pairwise sums, rebuilt here.

The kernels are cached on disk by ``kernel_cache``: an edit to any module of this package
recompiles them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernel_cache import cached_njit

JIT = {"nogil": True, "error_model": "numpy"}  # numpy's x/0 = inf, no raise


@njit(inline="always")
def block_sum(values: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of a contiguous float64 run of ``n <= 128`` values: 8 accumulators, then a tree."""
    if n < 8:
        total = -0.0
        for i in range(lo, lo + n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[lo], values[lo + 1], values[lo + 2], values[lo + 3]
    r4, r5, r6, r7 = values[lo + 4], values[lo + 5], values[lo + 6], values[lo + 7]
    last = lo + n - n % 8
    for i in range(lo + 8, last, 8):
        r0 += values[i]
        r1 += values[i + 1]
        r2 += values[i + 2]
        r3 += values[i + 3]
        r4 += values[i + 4]
        r5 += values[i + 5]
        r6 += values[i + 6]
        r7 += values[i + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(last, lo + n):
        total += values[i]
    return total


@cached_njit(**JIT)
def pairwise_sum(values: np.ndarray, lo: int, n: int) -> float:
    """``values[lo:lo + n].sum()`` exactly as numpy adds a contiguous float64 run.

    numpy halves runs longer than 128 values (halves cut at multiples of 8) and adds the
    halves' sums; this walks the same tree with an explicit stack (numba's disk cache
    does not take recursive functions).
    """
    if n <= 128:
        return block_sum(values, lo, n)
    frame_lo, frame_n = np.empty(64, np.int64), np.empty(64, np.int64)
    frame_left, frame_stage = np.empty(64), np.zeros(64, np.int64)
    top = 0
    frame_lo[0], frame_n[0] = lo, n
    while True:
        half = frame_n[top] // 2
        half -= half % 8
        if frame_stage[top] == 0:  # the left half, then the right one
            child_lo, child_n = frame_lo[top], half
        else:
            child_lo, child_n = frame_lo[top] + half, frame_n[top] - half
        if child_n > 128:
            top += 1
            frame_lo[top], frame_n[top], frame_stage[top] = child_lo, child_n, 0
            continue
        value = block_sum(values, child_lo, child_n)
        while True:  # hand the sum up: store a left half's, add a right half's to its left
            if frame_stage[top] == 0:
                frame_left[top], frame_stage[top] = value, 1
                break
            value = frame_left[top] + value
            if top == 0:
                return value
            top -= 1


@njit(inline="always")
def mean_of(values: np.ndarray, lo: int, n: int) -> float:
    """``values[lo:lo + n].mean()``, bit for bit."""
    return pairwise_sum(values, lo, n) / n
