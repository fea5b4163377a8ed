"""Simulated deployments for the monitor: daily candles of a random walk whose volatility
may double on a given day, and the ledger of a forecaster calibrated to the volatility
before it (naive close, bounds from the old volatility), as the monitor reads them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SIGMA = 0.02  # daily log-return volatility the forecaster was calibrated on


def simulated_deployment(
    seed: int, days: int, deployed: int, change: int | None, factor: float = 2.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(silver, ledger): ``days`` daily candles; step-1 forecasts from every origin from
    day ``deployed`` on; from day ``change`` (None: never) the return variance is
    multiplied by ``factor``."""
    rng = np.random.default_rng(seed)
    sigma = np.full(days, SIGMA)
    if change is not None:
        sigma[change + 1 :] *= np.sqrt(factor)  # the returns into the candles after `change`
    closes = 30_000 * np.exp(np.cumsum(rng.normal(0.0, sigma)))
    open_time = pd.date_range("2021-01-01", periods=days, freq="D", tz="UTC")
    silver = pd.DataFrame(
        {
            "open_time": open_time,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": 1.0,
            "close_time": open_time + pd.Timedelta(days=1) - pd.Timedelta(milliseconds=1),
            "was_filled": False,
        }
    )
    origins = np.arange(deployed, days - 1)
    last = closes[origins]
    ledger = pd.DataFrame(
        {
            "model_name": "sim_forecaster",
            "model_version": "1",
            "model_alias": "champion",
            "symbol": "SIMUSDT",
            "interval": "1d",
            "origin": open_time[origins],
            "step": 1,
            "target_time": open_time[origins + 1],
            "forecast_close": last,
            "recorded_at": open_time[origins],
        }
    )
    for coverage in (0.8, 0.95):
        z = stats.norm.ppf(0.5 + coverage / 2)
        label = round(coverage * 100)
        ledger[f"lower_{label}"] = last * np.exp(-z * SIGMA)
        ledger[f"upper_{label}"] = last * np.exp(z * SIGMA)
    return silver, ledger
