"""Gold's feature families, each defined in one place: its parameters, its columns (names and
warm-up) and their computation.

A family is registered by ``@_family(name, key=kind, ...)`` on a function that takes the
family's checked parameter block and returns its ``Definition``: the columns, each with
its warm-up (rows before its first defined value) and the parameter setting behind it,
and the function computing their arrays, in the same order. The families are registered,
and their columns appear in gold, in the order of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from .. import indicators
from .time_features import CALENDAR_PREFIXES, calendar_waves, fourier_waves, period_tag

#: kinds of parameter values (``parameters.KIND_HELP`` says what each accepts)
Kind = Literal["count", "counts", "positive", "positives", "flag"]
Block = dict[str, Any]  # a family's checked parameters, ``enabled`` included


class Inputs(NamedTuple):
    """What the families compute from: the candles' columns and their log returns."""

    open_time: pd.Series  # datetime64[ns, UTC]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    returns: np.ndarray  # log returns, NaN at row 0


class TimeParts(NamedTuple):
    """The calendar parts (parameter, column prefix) and Fourier periods (days) kept for the interval."""

    calendar_parts: list[tuple[str, str]]
    fourier_periods: list[float]


class Column(NamedTuple):
    """A feature column: name, warm-up (rows), the setting behind it (e.g. 'rsi.window=14')
    and its unit: what it measures, for the network's scale-free inputs (``UNITS``)."""

    name: str
    warmup: int
    setting: str
    unit: str = "free"


#: Units of gold's columns: a price level (USD), a price spread (USD differences), a
#: volume, a running total from the first candle, or scale-free (returns, oscillators, time).
UNITS = ("level", "spread", "volume", "running", "free")
#: The units of silver's own columns kept in gold.
CANDLE_UNITS = {
    "open": "level",
    "high": "level",
    "low": "level",
    "close": "level",
    "volume": "volume",
    "was_filled": "free",
}


class Definition(NamedTuple):
    """A family's columns and the function computing their arrays, in the same order."""

    columns: list[Column]
    compute: Callable[[Inputs], Sequence[np.ndarray]]


Define = Callable[[Block, TimeParts], Definition]


class Family(NamedTuple):
    """A registered family: its parameter keys (besides ``enabled``) with their kinds, its definition."""

    keys: dict[str, Kind]
    define: Define


FAMILIES: dict[str, Family] = {}  # in gold's column order


def _family(name: str, **keys: Kind) -> Callable[[Define], Define]:
    """Register the decorated definition as family ``name`` with parameter ``keys``."""

    def register(define: Define) -> Define:
        FAMILIES[name] = Family(keys, define)
        return define

    return register


def _sharing(names: Sequence[str], warmup: int, setting: str, unit: str = "free") -> list[Column]:
    """Columns sharing one warm-up, setting and unit."""
    return [Column(name, warmup, setting, unit) for name in names]


def definitions(params: dict[str, Block], time: TimeParts) -> list[Definition]:
    """The definitions of the enabled families, in gold's column order."""
    return [
        family.define(params[name], time)
        for name, family in FAMILIES.items()
        if params[name]["enabled"]
    ]


@_family("rsi", window="count")
def _rsi(p: Block, _: TimeParts) -> Definition:
    """Relative Strength Index, Wilder's smoothing: rsi_<window>."""
    w = p["window"]
    columns = [Column(f"rsi_{w}", w, f"rsi.window={w}")]
    return Definition(columns, lambda x: [indicators.rsi(x.close, w)])


@_family("macd", fast="count", slow="count", signal="count")
def _macd(p: Block, _: TimeParts) -> Definition:
    """EMA(fast) - EMA(slow), its EMA(signal) and the histogram: macd, macd_signal, macd_hist."""
    fast, slow, signal = p["fast"], p["slow"], p["signal"]
    columns = [
        Column("macd", slow - 1, f"macd.slow={slow}", "spread"),
        *_sharing(
            ["macd_signal", "macd_hist"],
            slow + signal - 2,
            f"macd.slow+signal={slow}+{signal}",
            "spread",
        ),
    ]
    return Definition(columns, lambda x: indicators.macd(x.close, fast, slow, signal))


@_family("bollinger", window="count", num_std="positive")
def _bollinger(p: Block, _: TimeParts) -> Definition:
    """SMA(window) +- num_std population stds, %B and bandwidth: bb_<band>_<window>."""
    w, num_std = p["window"], p["num_std"]
    setting = f"bollinger.window={w}"
    columns = _sharing(
        [f"bb_{band}_{w}" for band in ("middle", "upper", "lower")], w - 1, setting, "level"
    ) + _sharing([f"bb_{band}_{w}" for band in ("percent_b", "bandwidth")], w - 1, setting)
    return Definition(columns, lambda x: indicators.bollinger(x.close, w, num_std))


@_family("atr", window="count")
def _atr(p: Block, _: TimeParts) -> Definition:
    """Average True Range, Wilder's smoothing: atr_<window>."""
    w = p["window"]
    columns = [Column(f"atr_{w}", w, f"atr.window={w}", "spread")]
    return Definition(columns, lambda x: [indicators.atr(x.high, x.low, x.close, w)])


@_family("stochastic", k_window="count", k_smoothing="count", d_window="count")
def _stochastic(p: Block, _: TimeParts) -> Definition:
    """%K over k_window smoothed by k_smoothing, %D = SMA(d_window) of %K: stoch_{k,d}_<k>."""
    k, s, d = p["k_window"], p["k_smoothing"], p["d_window"]
    columns = [
        Column(f"stoch_k_{k}", k + s - 2, f"stochastic.k_window+k_smoothing={k}+{s}"),
        Column(
            f"stoch_d_{k}", k + s + d - 3, f"stochastic.k_window+k_smoothing+d_window={k}+{s}+{d}"
        ),
    ]
    return Definition(columns, lambda x: indicators.stochastic(x.high, x.low, x.close, k, s, d))


@_family("obv")
def _obv(_p: Block, _: TimeParts) -> Definition:
    """On-Balance Volume: obv."""
    return Definition(
        [Column("obv", 0, "obv", "running")], lambda x: [indicators.obv(x.close, x.volume)]
    )


@_family("roc", windows="counts")
def _roc(p: Block, _: TimeParts) -> Definition:
    """Rate of change in percent: roc_<window>."""
    windows = p["windows"]
    columns = [Column(f"roc_{w}", w, f"roc.windows={w}") for w in windows]
    return Definition(columns, lambda x: [indicators.roc(x.close, w) for w in windows])


@_family("rolling", windows="counts")
def _rolling(p: Block, _: TimeParts) -> Definition:
    """Rolling mean and population std of close: sma_<window>, std_<window>."""
    windows = p["windows"]
    columns = [
        column
        for w in windows
        for column in (
            Column(f"sma_{w}", w - 1, f"rolling.windows={w}", "level"),
            Column(f"std_{w}", w - 1, f"rolling.windows={w}", "spread"),
        )
    ]
    return Definition(
        columns,
        lambda x: [moment for w in windows for moment in indicators.rolling_mean_std(x.close, w)],
    )


@_family("ema", spans="counts")
def _ema(p: Block, _: TimeParts) -> Definition:
    """Exponential moving averages of close, as TA-Lib's: ema_<span>."""
    spans = p["spans"]
    columns = [Column(f"ema_{span}", span - 1, f"ema.spans={span}", "level") for span in spans]
    return Definition(columns, lambda x: [indicators.ema(x.close, span) for span in spans])


@_family("log_return")
def _log_return(_p: Block, _: TimeParts) -> Definition:
    """log(close_t / close_{t-1}): log_return."""
    return Definition([Column("log_return", 1, "log_return")], lambda x: [x.returns])


@_family("lags", close="counts", log_return="counts")
def _lags(p: Block, _: TimeParts) -> Definition:
    """Past closes and log returns: close_lag_<k>, log_return_lag_<k>."""
    close, returns = p["close"], p["log_return"]
    columns = [Column(f"close_lag_{lag}", lag, f"lags.close={lag}", "level") for lag in close] + [
        Column(f"log_return_lag_{lag}", lag + 1, f"lags.log_return={lag}") for lag in returns
    ]
    return Definition(
        columns,
        lambda x: (
            [indicators.lagged(x.close, lag) for lag in close]
            + [indicators.lagged(x.returns, lag) for lag in returns]
        ),
    )


@_family("calendar", **dict.fromkeys(CALENDAR_PREFIXES, "flag"))
def _calendar(_p: Block, time: TimeParts) -> Definition:
    """Sine/cosine of the calendar parts that vary between candles: <part>_sin, <part>_cos."""
    parts = time.calendar_parts  # the switched-on parts that vary between candles
    columns = [
        column
        for part, prefix in parts
        for column in _sharing([f"{prefix}_sin", f"{prefix}_cos"], 0, f"calendar.{part}")
    ]
    prefixes = [prefix for _, prefix in parts]
    return Definition(columns, lambda x: calendar_waves(x.open_time, prefixes))


@_family("fourier", periods_days="positives")
def _fourier(_p: Block, time: TimeParts) -> Definition:
    """sin/cos(2 pi t / period), periods of at least two candles: fourier_{sin,cos}_<period>d."""
    periods = time.fourier_periods  # the periods of at least two candles
    columns = [
        column
        for period in periods
        for column in _sharing(
            [f"fourier_sin_{period_tag(period)}", f"fourier_cos_{period_tag(period)}"],
            0,
            "fourier.periods_days",
        )
    ]
    return Definition(columns, lambda x: fourier_waves(x.open_time, periods))


@_family("fft", window="count", n_components="count")
def _fft(p: Block, _: TimeParts) -> Definition:
    """Amplitude and period of the strongest frequencies of the log returns: fft_{amp,period}_<i>_<window>."""
    w, n = p["window"], p["n_components"]
    columns = [
        column
        for i in range(1, n + 1)
        for column in _sharing([f"fft_amp_{i}_{w}", f"fft_period_{i}_{w}"], w, f"fft.window={w}")
    ]

    def compute(x: Inputs) -> list[np.ndarray]:
        amplitudes, periods = indicators.fft_dominant(x.returns, w, n)
        return [column for i in range(n) for column in (amplitudes[:, i], periods[:, i])]

    return Definition(columns, compute)
