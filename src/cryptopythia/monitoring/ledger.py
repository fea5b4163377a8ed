"""Ledger rows: a forecast table (``model.forecaster.forecast`` plus the model's identity)
turned into the rows of the ``forecast_ledger`` table."""

from __future__ import annotations

from typing import Any

import pandas as pd

# The forecast table's columns that identify the model (from ``load_forecaster``'s info).
MODEL_COLUMNS = ("model_name", "model_version", "model_alias", "scaler_version")
# Each step's volatility of the log close (the bounds are multiples of it) and the
# close's quantiles (``quantile_<level>``, inference.quantiles).
SCALE_PREFIXES = ("sigma_log", "quantile_")


def ledger_rows(
    forecast: pd.DataFrame,
    origin: pd.Timestamp,
    symbol: str,
    interval: str,
    run_id: str | None,
    recorded_at: pd.Timestamp,
    made_by: str,
) -> pd.DataFrame:
    """One ledger row per forecast step, keyed by model, symbol, interval, origin (the open
    time of the last candle the forecast saw) and step; ``made_by`` tells a live forecast
    (``inference``) from a replayed one (``replay``). ``sigma_log`` and the quantiles
    (``quantile_<level>``) are kept when the forecast has them."""
    bounds = [c for c in forecast.columns if c.startswith(("lower_", "upper_"))]
    scales = [c for c in forecast.columns if c.startswith(SCALE_PREFIXES)]
    rows = forecast[[*MODEL_COLUMNS, "step", "forecast_close", *bounds, *scales]].copy()
    rows["model_version"] = rows["model_version"].astype(str)
    rows["scaler_version"] = rows["scaler_version"].astype(str)
    rows["model_alias"] = rows["model_alias"].fillna("").astype(str)
    rows["target_time"] = pd.to_datetime(forecast["open_time"], utc=True)
    rows["symbol"], rows["interval"] = symbol, interval
    rows["origin"] = pd.Timestamp(origin)
    rows["run_id"], rows["made_by"] = run_id, made_by
    rows["recorded_at"] = recorded_at
    return rows.reset_index(drop=True)


def active_run_id() -> str | None:
    """The MLflow run the forecast was made in (kedro-mlflow opens one per tracked run)."""
    import mlflow

    run: Any = mlflow.active_run()
    return None if run is None else run.info.run_id
