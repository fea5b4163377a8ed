"""Time features: sine/cosine waves of the candle's open time (calendar parts, Fourier periods).

Which calendar parts and Fourier periods make sense depends on the candle length: a part
constant between candles, or a period shorter than two candles (it aliases), is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .plan_logging import log_plan

logger = logging.getLogger(__name__)

DAY_SECONDS = 86_400
MONTH_SECONDS = 365.2425 / 12 * DAY_SECONDS  # a mean Gregorian month

#: calendar parameter -> column prefix, in gold's column order
CALENDAR_PREFIXES = {
    "hour_of_day": "hour",
    "day_of_week": "dow",
    "day_of_month": "dom",
    "month_of_year": "month",
}


def calendar_parts(calendar: dict[str, Any], interval_s: float) -> list[tuple[str, str]]:
    """The (parameter, column prefix) calendar parts switched on that vary between candles of ``interval_s``."""
    varies = {
        "hour_of_day": interval_s < DAY_SECONDS,
        "day_of_week": interval_s < 7 * DAY_SECONDS,
        "day_of_month": interval_s < MONTH_SECONDS,
        "month_of_year": True,
    }
    parts = []
    for part, prefix in CALENDAR_PREFIXES.items():
        if calendar[part] and not varies[part]:
            log_plan(
                logger,
                ("calendar", part, interval_s),
                "Calendar part %s is constant for %.0f s candles: skipped.",
                part,
                interval_s,
            )
        elif calendar[part]:
            parts.append((part, prefix))
    return parts


def fourier_periods(periods_days: tuple[float, ...], interval_s: float) -> list[float]:
    """The periods (days) that last at least two candles of ``interval_s``; the others alias and are skipped."""
    kept = []
    for period in periods_days:
        candles = period * DAY_SECONDS / interval_s
        if candles < 2:
            log_plan(
                logger,
                ("fourier", period, interval_s),
                "Fourier period %s d is %.3g candles (< 2): skipped.",
                period,
                candles,
            )
        else:
            log_plan(
                logger,
                ("fourier", period, interval_s),
                "Fourier period %s d = %.6g candles.",
                period,
                candles,
            )
            kept.append(period)
    return kept


def period_tag(period_days: float) -> str:
    """Column tag of a period in days: 7 -> '7d', 30.44 -> '30_44d'."""
    return f"{period_days:g}".replace(".", "_") + "d"


def calendar_waves(open_time: pd.Series, prefixes: list[str]) -> list[np.ndarray]:
    """Sine, cosine, sine, cosine... of the phase of each calendar part (by column prefix) of ``open_time``."""
    times = open_time.dt
    phases = {
        "hour": lambda: (
            (open_time.astype("int64").to_numpy() % (DAY_SECONDS * 10**9)) / (DAY_SECONDS * 10**9)
        ),
        "dow": lambda: times.dayofweek.to_numpy() / 7,
        "dom": lambda: (times.day.to_numpy() - 1) / times.days_in_month.to_numpy(),
        "month": lambda: (times.month.to_numpy() - 1) / 12,
    }
    waves = []
    for prefix in prefixes:
        angle = 2 * np.pi * phases[prefix]()
        waves += [np.sin(angle), np.cos(angle)]
    return waves


def fourier_waves(open_time: pd.Series, periods_days: list[float]) -> list[np.ndarray]:
    """Sine, cosine, ... of 2*pi*t/period, t the open time in days since the Unix epoch (not since the first row)."""
    days = open_time.astype("int64").to_numpy() / (DAY_SECONDS * 1e9)
    waves = []
    for period in periods_days:
        angle = 2 * np.pi * days / period
        waves += [np.sin(angle), np.cos(angle)]
    return waves
