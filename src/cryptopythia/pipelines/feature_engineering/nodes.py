"""Silver candles -> gold features: pure, vectorised functions with no I/O.

``build_gold(silver, params, interval)`` is the whole transformation; the pipeline's
nodes are its steps (``check_parameters`` -> ``check_silver`` -> ``compute_features`` ->
``drop_warmup``), so training and serving compute exactly the same features.

Every feature at row ``t`` uses rows ``<= t`` only. Exponential averages (EMA, MACD,
Wilder's RSI/ATR) are seeded as TA-Lib seeds them (the mean of the first ``n`` values),
so the values agree with TA-Lib from the first defined row on.

The recursive and rolling indicators run in small numba kernels, one compiled pass over
the rows each (compiled on first use and cached on disk); the rest is numpy.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from numpy.lib.stride_tricks import sliding_window_view

from ..data_engineering.klines import INTERVALS

logger = logging.getLogger(__name__)

#: silver's columns kept in gold, in this order; the optional Binance columns are not.
CANDLE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "was_filled",
)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")

_PARAMS_KEY = "feature_engineering"
_INTERVAL_KEY = "data_engineering.interval"
_DAY_SECONDS = 86_400
_MONTH_SECONDS = 365.2425 / 12 * _DAY_SECONDS  # a mean Gregorian month
_CHUNK_ROWS = 65_536  # sliding windows processed at once (bounds the memory)
_SHORT_WINDOW = 8  # rolling means of windows up to this length are summed directly

# Families in gold's column order, with their keys and each key's kind.
_SCHEMA: dict[str, dict[str, str]] = {
    "rsi": {"window": "count"},
    "macd": {"fast": "count", "slow": "count", "signal": "count"},
    "bollinger": {"window": "count", "num_std": "positive"},
    "atr": {"window": "count"},
    "stochastic": {"k_window": "count", "k_smoothing": "count", "d_window": "count"},
    "obv": {},
    "roc": {"windows": "counts"},
    "rolling": {"windows": "counts"},
    "ema": {"spans": "counts"},
    "log_return": {},
    "lags": {"close": "counts", "log_return": "counts"},
    "calendar": {
        "hour_of_day": "flag",
        "day_of_week": "flag",
        "day_of_month": "flag",
        "month_of_year": "flag",
    },
    "fourier": {"periods_days": "positives"},
    "fft": {"window": "count", "n_components": "count"},
}
_KIND_HELP = {
    "count": "a whole number > 0",
    "counts": "a non-empty list of distinct whole numbers > 0",
    "positive": "a number > 0",
    "positives": "a non-empty list of distinct numbers > 0",
    "flag": "true or false",
}


class FeatureConfigError(ValueError):
    """The ``feature_engineering`` parameters or the candle interval are invalid."""


class SilverInputError(ValueError):
    """The silver table cannot be turned into gold."""


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------


def interval_seconds(interval: str) -> float:
    """Length of one candle, in seconds, of a Binance interval string ("4h", "1d", "1M")."""
    if interval not in INTERVALS:
        raise FeatureConfigError(
            f"parameter {_INTERVAL_KEY}={interval!r} is not a Binance interval: use one of "
            f"{', '.join(INTERVALS)} (conf/base/parameters_data_engineering.yml)."
        )
    length = INTERVALS[interval]
    return _MONTH_SECONDS if length is None else length.total_seconds()


def _is_kind(kind: str, value: Any) -> bool:
    """Whether ``value`` is of ``kind`` (see ``_KIND_HELP``); booleans are not numbers."""
    if kind == "flag":
        return isinstance(value, bool)
    if kind in ("counts", "positives"):
        return (
            isinstance(value, list | tuple)
            and len(value) > 0
            and len(set(value)) == len(value)
            and all(_is_kind(kind[:-1], item) for item in value)
        )
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    if kind == "count":
        return isinstance(value, numbers.Integral) and value > 0
    return math.isfinite(value) and value > 0


def _check_value(path: str, kind: str, value: Any) -> Any:
    """Return ``value`` (lists as tuples) if it is of ``kind``, else raise naming ``path``."""
    if not _is_kind(kind, value):
        raise FeatureConfigError(
            f"parameter {_PARAMS_KEY}.{path}={value!r} is invalid: it must be "
            f"{_KIND_HELP[kind]}. Fix it in conf/base/parameters_feature_engineering.yml "
            "or in the --params override."
        )
    return tuple(value) if kind in ("counts", "positives") else value


def _check_family(family: str, block: Any) -> dict[str, Any]:
    """Validate one family's block: known keys, ``enabled`` flag, values of the right kind."""
    schema = _SCHEMA[family]
    if not isinstance(block, dict) or "enabled" not in block:
        raise FeatureConfigError(
            f"parameter {_PARAMS_KEY}.{family} must be a mapping with 'enabled: true|false'"
            f" (and {', '.join(schema) or 'no other keys'}); got {block!r}."
        )
    unknown = sorted(set(block) - set(schema) - {"enabled"})
    if unknown:
        raise FeatureConfigError(
            f"unknown key(s) {unknown} in parameter {_PARAMS_KEY}.{family}; known keys "
            f"are {['enabled', *schema]}. Check the spelling."
        )
    checked = {"enabled": _check_value(f"{family}.enabled", "flag", block["enabled"])}
    for key, kind in schema.items():
        if key in block:
            checked[key] = _check_value(f"{family}.{key}", kind, block[key])
        elif checked["enabled"]:
            raise FeatureConfigError(
                f"parameter {_PARAMS_KEY}.{family}.{key} is missing: it must be "
                f"{_KIND_HELP[kind]} while {_PARAMS_KEY}.{family}.enabled is true."
            )
    return checked


def _plan_columns(
    p: dict[str, dict[str, Any]],
    calendar_parts: list[tuple[str, str]],
    fourier_periods: list[float],
) -> dict[str, tuple[int, str]]:
    """Gold's feature columns in order, each with its warm-up (rows) and the parameter setting it."""
    plan: dict[str, tuple[int, str]] = {}

    def add(names: list[str], lookback: int, source: str) -> None:
        for name in names:
            plan[name] = (lookback, f"{_PARAMS_KEY}.{source}")

    if p["rsi"]["enabled"]:
        w = p["rsi"]["window"]
        add([f"rsi_{w}"], w, f"rsi.window={w}")
    if p["macd"]["enabled"]:
        fast, slow, signal = (p["macd"][k] for k in ("fast", "slow", "signal"))
        add(["macd"], slow - 1, f"macd.slow={slow}")
        add(["macd_signal", "macd_hist"], slow + signal - 2, f"macd.slow+signal={slow}+{signal}")
    if p["bollinger"]["enabled"]:
        w = p["bollinger"]["window"]
        names = [
            f"bb_{part}_{w}" for part in ("middle", "upper", "lower", "percent_b", "bandwidth")
        ]
        add(names, w - 1, f"bollinger.window={w}")
    if p["atr"]["enabled"]:
        w = p["atr"]["window"]
        add([f"atr_{w}"], w, f"atr.window={w}")
    if p["stochastic"]["enabled"]:
        k, s, d = (p["stochastic"][key] for key in ("k_window", "k_smoothing", "d_window"))
        add([f"stoch_k_{k}"], k + s - 2, f"stochastic.k_window+k_smoothing={k}+{s}")
        add(
            [f"stoch_d_{k}"], k + s + d - 3, f"stochastic.k_window+k_smoothing+d_window={k}+{s}+{d}"
        )
    if p["obv"]["enabled"]:
        add(["obv"], 0, "obv")
    if p["roc"]["enabled"]:
        for w in p["roc"]["windows"]:
            add([f"roc_{w}"], w, f"roc.windows={w}")
    if p["rolling"]["enabled"]:
        for w in p["rolling"]["windows"]:
            add([f"sma_{w}", f"std_{w}"], w - 1, f"rolling.windows={w}")
    if p["ema"]["enabled"]:
        for span in p["ema"]["spans"]:
            add([f"ema_{span}"], span - 1, f"ema.spans={span}")
    if p["log_return"]["enabled"]:
        add(["log_return"], 1, "log_return")
    if p["lags"]["enabled"]:
        for lag in p["lags"]["close"]:
            add([f"close_lag_{lag}"], lag, f"lags.close={lag}")
        for lag in p["lags"]["log_return"]:
            add([f"log_return_lag_{lag}"], lag + 1, f"lags.log_return={lag}")
    if p["calendar"]["enabled"]:
        for part, prefix in calendar_parts:
            add([f"{prefix}_sin", f"{prefix}_cos"], 0, f"calendar.{part}")
    if p["fourier"]["enabled"]:
        for period in fourier_periods:
            tag = _period_tag(period)
            add([f"fourier_sin_{tag}", f"fourier_cos_{tag}"], 0, "fourier.periods_days")
    if p["fft"]["enabled"]:
        w, n = p["fft"]["window"], p["fft"]["n_components"]
        for i in range(1, n + 1):
            add([f"fft_amp_{i}_{w}", f"fft_period_{i}_{w}"], w, f"fft.window={w}")
    return plan


def check_parameters(params: dict[str, Any], interval: str) -> dict[str, Any]:
    """Validate ``feature_engineering`` params and plan gold's columns and warm-up for ``interval``."""
    if not isinstance(params, dict):
        raise FeatureConfigError(
            f"parameter {_PARAMS_KEY} must be a mapping of feature families; got {params!r}."
        )
    unknown = sorted(set(params) - set(_SCHEMA))
    if unknown:
        raise FeatureConfigError(
            f"unknown feature famil(y/ies) {unknown} in parameter {_PARAMS_KEY}; known "
            f"families are {list(_SCHEMA)}. Check the spelling."
        )
    missing = [family for family in _SCHEMA if family not in params]
    if missing:
        raise FeatureConfigError(
            f"parameter {_PARAMS_KEY} lacks the block(s) {missing}: give each "
            "'enabled: false' at least (see conf/base/parameters_feature_engineering.yml)."
        )
    checked = {family: _check_family(family, params[family]) for family in _SCHEMA}
    macd = checked["macd"]
    if macd["enabled"] and macd["fast"] >= macd["slow"]:
        raise FeatureConfigError(
            f"parameter {_PARAMS_KEY}.macd.fast={macd['fast']} must be smaller than "
            f"{_PARAMS_KEY}.macd.slow={macd['slow']}."
        )
    fft = checked["fft"]
    if fft["enabled"] and (fft["window"] < 4 or fft["n_components"] > fft["window"] // 2):
        raise FeatureConfigError(
            f"parameters {_PARAMS_KEY}.fft.window={fft['window']} and "
            f"{_PARAMS_KEY}.fft.n_components={fft['n_components']} do not fit: the window "
            "must be >= 4 candles and have at least n_components frequencies "
            "(n_components <= window // 2)."
        )
    seconds = interval_seconds(interval)
    calendar_parts = (
        _calendar_parts(checked["calendar"], seconds) if checked["calendar"]["enabled"] else []
    )
    fourier_periods = (
        _fourier_periods(checked["fourier"]["periods_days"], seconds)
        if checked["fourier"]["enabled"]
        else []
    )
    plan = _plan_columns(checked, calendar_parts, fourier_periods)
    warmup, source = max(plan.values(), default=(0, "no feature enabled"))
    if not plan:
        logger.warning("Every feature family is disabled: gold will hold silver's columns only.")
    return {
        "params": checked,
        "interval": interval,
        "interval_seconds": seconds,
        "calendar_parts": calendar_parts,
        "fourier_periods": fourier_periods,
        "columns": list(plan),
        "warmup": warmup,
        "warmup_source": source,
    }


# ---------------------------------------------------------------------------------------
# Silver
# ---------------------------------------------------------------------------------------


def check_silver(silver: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """Check silver (columns, types, NaNs, order, length) and return its gold columns."""
    fix = "silver is written by the data_engineering pipeline: run it first (kedro run --pipeline data_engineering)"
    missing = [column for column in CANDLE_COLUMNS if column not in silver.columns]
    if missing:
        raise SilverInputError(
            f"silver lacks the column(s) {missing} (it has {list(silver.columns)}); {fix}."
        )
    candles = silver.loc[:, list(CANDLE_COLUMNS)].reset_index(drop=True)
    for column in ("open_time", "close_time"):
        if not isinstance(candles[column].dtype, pd.DatetimeTZDtype):
            raise SilverInputError(
                f"silver column {column!r} has dtype {candles[column].dtype}, not UTC "
                "datetimes: load silver through the catalog (CandleCSVDataset with "
                "datetime_columns) or convert it with pd.to_datetime(..., utc=True)."
            )
    for column in PRICE_COLUMNS:
        if not pd.api.types.is_numeric_dtype(candles[column].dtype):
            raise SilverInputError(
                f"silver column {column!r} has dtype {candles[column].dtype}, not numbers; {fix}."
            )
    if not pd.api.types.is_bool_dtype(candles["was_filled"].dtype):
        raise SilverInputError(
            f"silver column 'was_filled' has dtype {candles['was_filled'].dtype}, not bool; {fix}."
        )
    for column in ("open_time", *PRICE_COLUMNS):
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
    candles[list(PRICE_COLUMNS)] = candles[list(PRICE_COLUMNS)].astype("float64")
    candles["was_filled"] = candles["was_filled"].astype(bool)  # pandas "boolean" -> numpy bool
    return candles


# ---------------------------------------------------------------------------------------
# Compiled single-pass kernels (numba, cached on disk). A recursion such as an EMA cannot
# be vectorised in numpy without extra passes; each kernel is one pass over the rows, as
# TA-Lib's C is. The float operations are those of the numpy/pandas code they replace.
# ---------------------------------------------------------------------------------------

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}  # numpy's x/0 = inf, no raise


@njit(inline="always")
def _ewm_step(
    weighted: float, old_wt: float, cur: float, alpha: float
) -> tuple[float, float]:
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
def _plain(alpha: float) -> bool:
    """Whether ``_ewm_step`` with ``alpha``, while no NaN has come, is ``weighted = (1 - alpha) * weighted + alpha * cur``.

    After a non-NaN value its weight is 1, ``old_wt = 1.0 * (1 - alpha)``, and it divides
    by ``old_wt + alpha`` unless that is exactly 1 (true for the usual 2 / (n + 1), 1 / n).
    """
    return (1.0 - alpha) + alpha == 1.0


@njit(inline="always")
def _block_sum(values: np.ndarray, lo: int, n: int) -> float:
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


@njit(**_JIT)
def _pairwise_sum(values: np.ndarray, lo: int, n: int) -> float:
    """``values[lo:lo + n].sum()`` exactly as numpy adds a contiguous float64 run.

    numpy halves runs longer than 128 values (halves cut at multiples of 8) and adds the
    halves' sums; this walks the same tree with an explicit stack (numba's disk cache
    does not take recursive functions).
    """
    if n <= 128:
        return _block_sum(values, lo, n)
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
        value = _block_sum(values, child_lo, child_n)
        while True:  # hand the sum up: store a left half's, add a right half's to its left
            if frame_stage[top] == 0:
                frame_left[top], frame_stage[top] = value, 1
                break
            value = frame_left[top] + value
            if top == 0:
                return value
            top -= 1


@njit(inline="always")
def _mean_of(values: np.ndarray, lo: int, n: int) -> float:
    """``values[lo:lo + n].mean()``, bit for bit."""
    return _pairwise_sum(values, lo, n) / n


@njit(inline="always")
def _fmax(a: float, b: float) -> float:
    """``np.fmax(a, b)``: the larger, NaN ignored."""
    return b if (a < b or a != a) else a


@njit(**_JIT)
def _seeded_ewm(values: np.ndarray, alpha: float, seed_window: int, seed_end: int, out: np.ndarray) -> None:
    """``_ewm`` seeded with the mean of the ``seed_window`` values ending at ``seed_end`` (all NaN if too short)."""
    if seed_end >= len(values):
        out[:] = np.nan
        return
    seed = _mean_of(values, seed_end - seed_window + 1, seed_window)
    _ewm(values, alpha, seed, seed_end, out)


@njit(**_JIT)
def _ewm(values: np.ndarray, alpha: float, seed: float, start: int, out: np.ndarray) -> None:
    """``out[start:]``: the EMA of ``values[start + 1:]`` starting from ``seed``; NaN before."""
    out[:start] = np.nan
    weighted, old_wt = seed, 1.0
    out[start] = weighted
    for i in range(start + 1, len(values)):
        weighted, old_wt = _ewm_step(weighted, old_wt, values[i], alpha)
        out[i] = weighted


@njit(**_JIT)
def _rsi(close: np.ndarray, window: int, gain: float, loss: float, out: np.ndarray) -> None:
    """Wilder's RSI from the seeds at ``window``: gains/losses, both EMAs and the ratio in one pass."""
    alpha = 1 / window
    out[:window] = np.nan
    gain_wt = loss_wt = 1.0
    for i in range(window, len(close)):
        if i > window:
            change = close[i] - close[i - 1]
            gain, gain_wt = _ewm_step(gain, gain_wt, change if change > 0 else 0.0, alpha)
            loss, loss_wt = _ewm_step(loss, loss_wt, -change if change < 0 else 0.0, alpha)
        total = gain + loss
        out[i] = 100 * (0.5 if total == 0 else gain / total)


@njit(**_JIT)
def _atr(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, seed: float, out: np.ndarray
) -> None:
    """Wilder's ATR from the seed at ``window``: true range and EMA in one pass."""
    alpha = 1 / window
    out[:window] = np.nan
    atr, old_wt = seed, 1.0
    out[window] = atr
    for i in range(window + 1, len(close)):
        previous = close[i - 1]
        true_range = max(high[i] - low[i], max(abs(high[i] - previous), abs(low[i] - previous)))
        atr, old_wt = _ewm_step(atr, old_wt, true_range, alpha)
        out[i] = atr


@njit(inline="always")
def _window_sums(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> int:
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
def _fix_flat(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> None:
    """Give each flat window (std 0: its last value repeated) numpy's two-pass mean and std of it, bit for bit.

    ``np.mean``/``np.std`` of ``window`` copies of x: pairwise sums divided by ``window``,
    the std of the squared deviations from that mean (its rounding, ~1e-12 of x).
    """
    copies = np.empty(window)
    for t in range(window - 1, len(std)):
        if std[t] == 0:
            copies[:] = values[t]
            m = _pairwise_sum(copies, 0, window) / window
            d = values[t] - m
            copies[:] = d * d
            mean[t] = m
            std[t] = np.sqrt(_pairwise_sum(copies, 0, window) / window)


@njit(**_JIT)
def _rolling_moments(values: np.ndarray, window: int, mean: np.ndarray, std: np.ndarray) -> int:
    """Mean (and population std if ``std`` is not empty) of each trailing window, flat ones fixed (``_fix_flat``); returns their count."""
    flat = _window_sums(values, window, mean, std)
    if flat:
        _fix_flat(values, window, mean, std)
    return flat


@njit(**_JIT)
def _short_rolling_mean(values: np.ndarray, window: int, out: np.ndarray) -> None:
    """Mean of each trailing window summed directly, left to right (for short windows: SIMD, no carry)."""
    out[: window - 1] = np.nan
    for t in range(window - 1, len(values)):
        total = values[t - window + 1]
        for i in range(t - window + 2, t + 1):
            total += values[i]
        out[t] = total / window


def _mean_into(values: np.ndarray, window: int, out: np.ndarray) -> None:
    """Trailing ``window`` means of ``values`` into ``out`` (same length), NaN warm-up included."""
    if window <= _SHORT_WINDOW:
        _short_rolling_mean(values, window, out)
    else:
        _rolling_moments(values, window, out, np.empty(0))


@njit(**_JIT)
def _stochastic_fast_k(
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


@njit(**_JIT)
def _macd(
    close: np.ndarray, fast: int, slow: int, signal: int,
    line: np.ndarray, signal_line: np.ndarray, histogram: np.ndarray,
) -> None:
    """MACD line, signal and histogram in one pass, seeds included (the rows' numpy means, bit for bit)."""
    n = len(close)
    start = slow - 1  # the line's first row; the signal's is ``start + signal - 1``
    line[: min(start, n)] = np.nan
    signal_line[: min(start + signal - 1, n)] = np.nan
    histogram[: min(start + signal - 1, n)] = np.nan
    if start >= n:
        return
    fast_alpha, slow_alpha, signal_alpha = 2 / (fast + 1), 2 / (slow + 1), 2 / (signal + 1)
    fast_ema, slow_ema = _mean_of(close, slow - fast, fast), _mean_of(close, 0, slow)
    fast_wt = slow_wt = signal_wt = 1.0
    line[start] = fast_ema - slow_ema
    seed_row = start + signal - 1
    for i in range(start + 1, min(seed_row + 1, n)):  # the line alone until the signal's seed
        fast_ema, fast_wt = _ewm_step(fast_ema, fast_wt, close[i], fast_alpha)
        slow_ema, slow_wt = _ewm_step(slow_ema, slow_wt, close[i], slow_alpha)
        line[i] = fast_ema - slow_ema
    if seed_row >= n:
        return
    ema = _mean_of(line, start, signal)
    signal_line[seed_row], histogram[seed_row] = ema, line[seed_row] - ema
    i = seed_row + 1
    if _plain(fast_alpha) and _plain(slow_alpha) and _plain(signal_alpha):
        fast_keep, slow_keep, signal_keep = 1.0 - fast_alpha, 1.0 - slow_alpha, 1.0 - signal_alpha
        while i < n:  # ``_ewm_step``'s operations while no NaN comes (fewer of them: faster)
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
        fast_ema, fast_wt = _ewm_step(fast_ema, fast_wt, close[i], fast_alpha)
        slow_ema, slow_wt = _ewm_step(slow_ema, slow_wt, close[i], slow_alpha)
        value = fast_ema - slow_ema
        ema, signal_wt = _ewm_step(ema, signal_wt, value, signal_alpha)
        line[i], signal_line[i], histogram[i] = value, ema, value - ema


@njit(**_JIT)
def _atr_seeded(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int, out: np.ndarray
) -> None:
    """Wilder's ATR, its seed (mean true range of rows 1..window, as numpy sums it) included."""
    n = len(close)
    if window >= n:
        out[:] = np.nan
        return
    for i in range(1, window + 1):  # out[1..window] holds the first true ranges for a moment
        previous = close[i - 1]
        out[i] = _fmax(high[i] - low[i], _fmax(abs(high[i] - previous), abs(low[i] - previous)))
    seed = _mean_of(out, 1, window)
    _atr(high, low, close, window, seed, out)


@njit(**_JIT)
def _rsi_seeded(close: np.ndarray, window: int, out: np.ndarray) -> None:
    """Wilder's RSI, its seeds (mean gain and loss of the first window, as numpy sums them) included."""
    n = len(close)
    if window >= n:
        out[:] = np.nan
        return
    for i in range(1, window + 1):  # out[0..window-1]: gains, then losses, for a moment
        change = close[i] - close[i - 1]
        out[i - 1] = change if (change > 0 or change != change) else 0.0
    gain = _mean_of(out, 0, window)
    for i in range(1, window + 1):
        change = -(close[i] - close[i - 1])
        out[i - 1] = change if (change > 0 or change != change) else 0.0
    loss = _mean_of(out, 0, window)
    _rsi(close, window, gain, loss, out)


@njit(**_JIT)
def _bollinger(
    close: np.ndarray, window: int, num_std: float,
    middle: np.ndarray, upper: np.ndarray, lower: np.ndarray, percent_b: np.ndarray,
    bandwidth: np.ndarray,
) -> int:
    """Bollinger bands in one call: ``_window_sums`` (the std held in ``bandwidth``; flat windows as ``_fix_flat``), then the bands."""
    flat = _window_sums(close, window, middle, bandwidth)
    if flat:
        _fix_flat(close, window, middle, bandwidth)
    for t in range(len(close)):  # ``_bands``' operations (NaN in, NaN out), vectorised from row 0
        std, mid = bandwidth[t], middle[t]
        up, down = mid + num_std * std, mid - num_std * std
        width = up - down
        upper[t], lower[t] = up, down
        percent_b[t] = 0.5 if width == 0 else (close[t] - down) / width
        bandwidth[t] = width / mid
    return flat


@njit(**_JIT)
def _roc(close: np.ndarray, window: int, out: np.ndarray) -> None:
    """``100 * (close_t / close_{t - window} - 1)`` (numpy's three steps, one pass); NaN for the first ``window`` rows."""
    n = len(close)
    out[: min(window, n)] = np.nan
    for t in range(window, n):
        out[t] = (close[t] / close[t - window] - 1) * 100


@njit(**_JIT)
def _obv(close: np.ndarray, volume: np.ndarray, out: np.ndarray) -> None:
    """On-Balance Volume: running sum of the volume signed by the close's move (row 0 counts +)."""
    total = volume[0]
    out[0] = total
    for i in range(1, len(close)):
        change = close[i] - close[i - 1]
        total += (np.float64(change > 0) - np.float64(change < 0)) * volume[i]  # np.sign
        out[i] = total


# ---------------------------------------------------------------------------------------
# Indicators (each returns arrays aligned with the candles; NaN during its warm-up)
# ---------------------------------------------------------------------------------------


def _warmup_only(shape: int | tuple[int, int], warmup: int) -> np.ndarray:
    """An uninitialised float array for kernels that write every row, all NaN if its rows <= ``warmup``."""
    rows = shape if isinstance(shape, int) else shape[-1]
    return np.empty(shape) if warmup < rows else np.full(shape, np.nan)


def _floats(values: Any) -> np.ndarray:
    """``values`` as a contiguous float64 array (no copy if it is one already)."""
    return np.ascontiguousarray(values, dtype=np.float64)


def seeded_ema(values: np.ndarray, alpha: float, seed_window: int, seed_end: int) -> np.ndarray:
    """EMA with ``alpha`` whose first value, at ``seed_end``, is the mean of the ``seed_window`` values ending there."""
    values = _floats(values)
    out = np.empty(len(values))
    _seeded_ewm(values, alpha, seed_window, seed_end, out)  # writes every row, NaN warm-up included
    return out


def rsi(close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI: 100 * avg gain / (avg gain + avg loss); 50 when the window is flat."""
    close = _floats(close)
    out = np.empty(len(close))
    _rsi_seeded(close, window, out)  # seeds: mean gain and loss of the first window
    return out


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, ...]:
    """MACD line (EMA fast - EMA slow, both seeded at ``slow - 1`` as TA-Lib does), signal, histogram."""
    close = _floats(close)
    line, signal_line, histogram = np.empty(len(close)), np.empty(len(close)), np.empty(len(close))
    _macd(close, fast, slow, signal, line, signal_line, histogram)  # one pass, seeds included
    return line, signal_line, histogram


def rolling_mean_std(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of each trailing window, from short shifted sums (no drift; see ``_rolling_moments``).

    A flat window gets numpy's two-pass values of that window (its mean's rounding, ~1e-12
    of std), exactly as before.
    """
    values = _floats(values)
    mean, std = np.empty((2, len(values)))
    _rolling_moments(values, window, mean, std)  # writes every row, NaN warm-up included
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
    _bollinger(close, window, float(num_std), *bands)  # one pass of sums, one of bands
    return bands


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's Average True Range; the first true range is at row 1 (it needs a previous close)."""
    high, low, close = _floats(high), _floats(low), _floats(close)
    out = np.empty(len(close))
    _atr_seeded(high, low, close, window, out)  # seed: mean true range of the first window
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
        _stochastic_fast_k(high, low, close, k_window, fast_k)
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
        _obv(close, volume, out)
    return out


def roc(close: np.ndarray, window: int) -> np.ndarray:
    """Rate of change in percent, 100 * (close_t / close_{t - window} - 1); NaN for the first ``window`` rows."""
    close = _floats(close)
    out = np.empty(len(close))
    _roc(close, window, out)
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


# ---------------------------------------------------------------------------------------
# Time features
# ---------------------------------------------------------------------------------------


def _calendar_parts(calendar: dict[str, Any], interval_s: float) -> list[tuple[str, str]]:
    """The (parameter, column prefix) calendar parts switched on that vary between candles of ``interval_s``."""
    varies = {
        "hour_of_day": interval_s < _DAY_SECONDS,
        "day_of_week": interval_s < 7 * _DAY_SECONDS,
        "day_of_month": interval_s < _MONTH_SECONDS,
        "month_of_year": True,
    }
    prefixes = {
        "hour_of_day": "hour",
        "day_of_week": "dow",
        "day_of_month": "dom",
        "month_of_year": "month",
    }
    parts = []
    for part, prefix in prefixes.items():
        if calendar.get(part) and not varies[part]:
            logger.info(
                "Calendar part %s is constant for %.0f s candles: skipped.", part, interval_s
            )
        elif calendar.get(part):
            parts.append((part, prefix))
    return parts


def _fourier_periods(periods_days: tuple[float, ...], interval_s: float) -> list[float]:
    """The periods (days) that last at least two candles of ``interval_s``; the others alias and are skipped."""
    kept = []
    for period in periods_days:
        candles = period * _DAY_SECONDS / interval_s
        if candles < 2:
            logger.info("Fourier period %s d is %.3g candles (< 2): skipped.", period, candles)
        else:
            logger.info("Fourier period %s d = %.6g candles.", period, candles)
            kept.append(period)
    return kept


def _period_tag(period_days: float) -> str:
    """Column tag of a period in days: 7 -> '7d', 30.44 -> '30_44d'."""
    return f"{period_days:g}".replace(".", "_") + "d"


def calendar_features(open_time: pd.Series, parts: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Sine/cosine pairs of hour of day, day of week, day of month and month of year of ``open_time``."""
    times = open_time.dt
    phases = {
        "hour": lambda: (
            (open_time.astype("int64").to_numpy() % (_DAY_SECONDS * 10**9)) / (_DAY_SECONDS * 10**9)
        ),
        "dow": lambda: times.dayofweek.to_numpy() / 7,
        "dom": lambda: (times.day.to_numpy() - 1) / times.days_in_month.to_numpy(),
        "month": lambda: (times.month.to_numpy() - 1) / 12,
    }
    out = {}
    for _, prefix in parts:
        angle = 2 * np.pi * phases[prefix]()
        out[f"{prefix}_sin"], out[f"{prefix}_cos"] = np.sin(angle), np.cos(angle)
    return out


def fourier_features(open_time: pd.Series, periods_days: list[float]) -> dict[str, np.ndarray]:
    """sin/cos(2*pi*t/period) with t the open time in days since the Unix epoch (no dependence on the first row)."""
    days = open_time.astype("int64").to_numpy() / (_DAY_SECONDS * 1e9)
    out = {}
    for period in periods_days:
        angle = 2 * np.pi * days / period
        tag = _period_tag(period)
        out[f"fourier_sin_{tag}"], out[f"fourier_cos_{tag}"] = np.sin(angle), np.cos(angle)
    return out


# ---------------------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------------------


def compute_features(candles: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """Candles + every enabled feature column (NaN during each feature's warm-up), in the planned order."""
    p = config["params"]
    open_time = candles["open_time"].astype("datetime64[ns, UTC]")
    high, low, close = (candles[c].to_numpy() for c in ("high", "low", "close"))
    returns = log_return(close)
    f: dict[str, np.ndarray] = {}
    if p["rsi"]["enabled"]:
        f[f"rsi_{p['rsi']['window']}"] = rsi(close, p["rsi"]["window"])
    if p["macd"]["enabled"]:
        f["macd"], f["macd_signal"], f["macd_hist"] = macd(
            close, p["macd"]["fast"], p["macd"]["slow"], p["macd"]["signal"]
        )
    if p["bollinger"]["enabled"]:
        w = p["bollinger"]["window"]
        bands = bollinger(close, w, p["bollinger"]["num_std"])
        for part, values in zip(
            ("middle", "upper", "lower", "percent_b", "bandwidth"), bands, strict=True
        ):
            f[f"bb_{part}_{w}"] = values
    if p["atr"]["enabled"]:
        f[f"atr_{p['atr']['window']}"] = atr(high, low, close, p["atr"]["window"])
    if p["stochastic"]["enabled"]:
        s = p["stochastic"]
        k, d = stochastic(high, low, close, s["k_window"], s["k_smoothing"], s["d_window"])
        f[f"stoch_k_{s['k_window']}"], f[f"stoch_d_{s['k_window']}"] = k, d
    if p["obv"]["enabled"]:
        f["obv"] = obv(close, candles["volume"].to_numpy())
    if p["roc"]["enabled"]:
        for w in p["roc"]["windows"]:
            f[f"roc_{w}"] = roc(close, w)
    if p["rolling"]["enabled"]:
        for w in p["rolling"]["windows"]:
            f[f"sma_{w}"], f[f"std_{w}"] = rolling_mean_std(close, w)
    if p["ema"]["enabled"]:
        for span in p["ema"]["spans"]:
            f[f"ema_{span}"] = seeded_ema(close, 2 / (span + 1), span, span - 1)
    if p["log_return"]["enabled"]:
        f["log_return"] = returns
    if p["lags"]["enabled"]:
        for lag in p["lags"]["close"]:
            f[f"close_lag_{lag}"] = lagged(close, lag)
        for lag in p["lags"]["log_return"]:
            f[f"log_return_lag_{lag}"] = lagged(returns, lag)
    if p["calendar"]["enabled"]:
        f.update(calendar_features(open_time, config["calendar_parts"]))
    if p["fourier"]["enabled"]:
        f.update(fourier_features(open_time, config["fourier_periods"]))
    if p["fft"]["enabled"]:
        w, n = p["fft"]["window"], p["fft"]["n_components"]
        amplitudes, periods = fft_dominant(returns, w, n)
        for i in range(n):
            f[f"fft_amp_{i + 1}_{w}"], f[f"fft_period_{i + 1}_{w}"] = (
                amplitudes[:, i],
                periods[:, i],
            )
    if list(f) != config["columns"]:  # the plan is the contract: same names, same order
        raise RuntimeError(
            f"computed columns {list(f)} differ from the planned {config['columns']}"
        )
    features = pd.DataFrame(f, index=candles.index, dtype="float64")
    logger.info("Computed %d feature columns: %s", features.shape[1], ", ".join(features.columns))
    return pd.concat([candles, features], axis=1)


def drop_warmup(features: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """Drop the warm-up rows (some feature still undefined) and check that no NaN/inf is left."""
    warmup = config["warmup"]
    gold = features.iloc[warmup:].reset_index(drop=True)
    values = gold[config["columns"]].to_numpy()
    if not np.isfinite(values).all():
        bad = [
            c
            for c, ok in zip(config["columns"], np.isfinite(values).all(axis=0), strict=True)
            if not ok
        ]
        raise SilverInputError(
            f"features {bad} are NaN/infinite after the {warmup}-row warm-up: silver holds "
            "values they cannot use (e.g. prices of 0 or inf); repair silver."
        )
    logger.info(
        "Dropped %d warm-up rows of %d (longest window: %s); gold has %d rows x %d columns%s.",
        warmup,
        len(features),
        config["warmup_source"],
        len(gold),
        gold.shape[1],
        f", {gold['open_time'].iloc[0]} .. {gold['open_time'].iloc[-1]}" if len(gold) else "",
    )
    return gold


def build_gold(silver: pd.DataFrame, params: dict[str, Any], interval: str) -> pd.DataFrame:
    """The whole silver -> gold transformation (what the pipeline runs), for training and serving alike."""
    config = check_parameters(params, interval)
    return drop_warmup(compute_features(check_silver(silver, config), config), config)
