"""Nodes of the inference pipeline: registered model -> forecast to ``target_date``."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure  # at run time: Kedro reads node type hints

from ...candles import interval_of
from ...model.forecaster import Forecaster, forecast_distribution, steps_until
from ...model.quantiles import check_levels, risk_table
from ...monitoring.ledger import active_run_id, ledger_rows

logger = logging.getLogger(__name__)


def forecast_to_target(
    silver: pd.DataFrame, forecaster: Forecaster, info: dict[str, Any], inference: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The close of every candle from the next one up to ``target_date`` (or the next
    ``default_steps``), with its intervals, the quantiles of ``inference.quantiles`` and
    the model version that made it; and the risk table: the next candle's Value-at-Risk
    and Expected Shortfall of its log return at each level of ``inference.risk_levels``
    (``model.quantiles``: the same quantile function as the intervals)."""
    candles_interval = interval_of(silver["open_time"])
    if candles_interval != forecaster.interval:
        raise ValueError(
            f"silver holds {candles_interval} candles but {info['model_name']} "
            f"v{info['model_version']} was trained on {forecaster.interval} candles: run "
            "inference in the model's environment (e.g. --env intraday for 4h) or train a "
            f"model on {candles_interval} candles first."
        )
    if inference["target_date"]:
        steps = steps_until(
            silver["open_time"].iloc[-1], inference["target_date"], forecaster.interval
        )
    else:
        steps = int(inference["default_steps"])
    if steps > int(inference["max_horizon"]):
        raise ValueError(
            f"inference.target_date={inference['target_date']!r} is {steps} candles after "
            f"the last one ({silver['open_time'].iloc[-1]}), beyond inference.max_horizon="
            f"{inference['max_horizon']}: pick a nearer date or raise max_horizon."
        )
    quantiles = inference.get("quantiles") or []
    levels = check_levels(quantiles, max(len(quantiles), 1), "inference.quantiles")
    result, function = forecast_distribution(silver, forecaster, steps, levels, scales=True)
    risk = pd.DataFrame(
        risk_table(
            function,
            float(result["forecast_close"].iloc[0]),
            float(silver["close"].iloc[-1]),
            [float(level) for level in inference.get("risk_levels") or []],
        ),
        columns=["level", "value_at_risk", "expected_shortfall", "forecast_log_return"],
    )
    risk.insert(0, "open_time", result["open_time"].iloc[0])
    risk.insert(1, "origin", silver["open_time"].iloc[-1])
    for key, value in info.items():
        result[key] = value
        risk[key] = value
    logger.info(
        "Forecast %d candles, %s -> %s; last: %.2f USD.",
        steps,
        result["open_time"].iloc[0],
        result["open_time"].iloc[-1],
        result["forecast_close"].iloc[-1],
    )
    for row in risk.itertuples():
        logger.info(
            "Next candle at %.0f%%: VaR %.4f, ES %.4f of the log return.",
            100 * row.level,
            row.value_at_risk,
            row.expected_shortfall,
        )
    return result, risk


def record_forecast(
    forecast_table: pd.DataFrame, silver: pd.DataFrame, symbol: str, interval: str
) -> pd.DataFrame:
    """The forecast as forecast_ledger rows, so `monitor` scores it once its candles close."""
    origin = silver["open_time"].iloc[-1]
    return ledger_rows(
        forecast_table,
        origin,
        symbol,
        interval,
        active_run_id(),
        pd.Timestamp.now("UTC"),
        made_by="inference",
    )


def plot_forecast(
    silver: pd.DataFrame, forecast_table: pd.DataFrame, history: int, symbol: str
) -> Figure:
    """Recent closes, the forecast and its intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recent = silver.iloc[-int(history) :]
    times = pd.to_datetime(forecast_table["open_time"], utc=True)
    figure, axis = plt.subplots(figsize=(11, 4.5))
    axis.plot(recent["open_time"], recent["close"], color="black", lw=1.2, label="close")
    coverages = sorted(
        (c.removeprefix("lower_") for c in forecast_table if c.startswith("lower_")),
        key=float,
        reverse=True,
    )
    for rank, coverage in enumerate(coverages):  # the widest band palest
        axis.fill_between(
            times,
            forecast_table[f"lower_{coverage}"],
            forecast_table[f"upper_{coverage}"],
            alpha=0.15 * (rank + 1),
            color="tab:blue",
            label=f"{coverage}% interval",
        )
    axis.plot(times, forecast_table["forecast_close"], color="tab:blue", lw=1.6, label="forecast")
    version = forecast_table["model_version"].iloc[0]
    axis.set_title(
        f"{symbol} close and forecast ({forecast_table['model_name'].iloc[0]} v{version})"
    )
    axis.set_ylabel("USD")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
