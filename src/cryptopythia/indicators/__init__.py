"""Technical indicators on numpy arrays, TA-Lib-compatible, on compiled (numba) kernels.

Each function returns arrays aligned with its input, NaN during its warm-up; see ``api``.
"""

from .api import (
    atr,
    bollinger,
    ema,
    ema_with_initial_mean,
    fft_dominant,
    lagged,
    log_return,
    macd,
    obv,
    roc,
    rolling_mean,
    rolling_mean_std,
    rsi,
    stochastic,
)

__all__ = [
    "atr",
    "bollinger",
    "ema",
    "ema_with_initial_mean",
    "fft_dominant",
    "lagged",
    "log_return",
    "macd",
    "obv",
    "roc",
    "rolling_mean",
    "rolling_mean_std",
    "rsi",
    "stochastic",
]
