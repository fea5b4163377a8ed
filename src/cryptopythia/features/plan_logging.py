"""Gold's plan in the log (its columns, skipped calendar parts, Fourier periods and warm-up),
once per process.

A run builds gold more than once with the same plan: the feature_engineering pipeline once,
then the recursive forecast once per step (inference, backtest folds), the registration's
check of the served model, the served model per request. Each plan line is logged at INFO
the first time this process logs it, at DEBUG after, so a `kedro run` shows the plan once.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any

_LOGGED: set[Hashable] = set()


def log_plan(logger: logging.Logger, key: Hashable, message: str, *args: Any) -> None:
    """Log ``message % args`` at INFO if this process has not logged ``key`` yet, else DEBUG."""
    level = logging.DEBUG if key in _LOGGED else logging.INFO
    _LOGGED.add(key)
    logger.log(level, message, *args)
