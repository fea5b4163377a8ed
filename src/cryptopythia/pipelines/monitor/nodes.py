"""Nodes of the monitor pipeline: the ledger's forecasts scored against silver, a status
per model version, the registry told, the metrics logged per origin."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from ...candles import interval_milliseconds
from ...monitoring.realised import pair_forecasts, realised_forecasts
from ...monitoring.scores import rolling_scores, score_windows
from ...monitoring.status import version_statuses
from ...registry.monitoring import demote_alarmed, tag_statuses

logger = logging.getLogger(__name__)


def score_ledger(
    ledger: pd.DataFrame,
    silver: pd.DataFrame,
    symbol: str,
    interval: str,
    intervals: dict[str, Any],
) -> pd.DataFrame:
    """The pair's ledger forecasts whose target candle has closed, beside the realised
    close, naive persistence and the EWMA random walk's bounds."""
    forecasts = pair_forecasts(ledger, symbol, interval)
    if forecasts.empty:
        raise ValueError(
            f"The forecast ledger holds no {symbol} {interval} forecast: run `kedro run "
            "--pipelines forecast` (daily) or `--pipelines replay --params replay.start=...,"
            "replay.end=...` first."
        )
    return realised_forecasts(forecasts, silver, pd.Timestamp.now(tz="UTC"), intervals)


def summarise_monitoring(
    realised: pd.DataFrame, monitor: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The scores per version, step and window with each version's status (the JSON
    report), and the rolling step scores drawn over time."""
    settings = monitor["status"]
    if realised.empty:
        raise ValueError(
            "No forecast in the ledger has a closed target candle in silver yet: refresh "
            "the candles (`kedro run --pipelines data_engineering`) after the first "
            "forecast's candle closes, or replay past days."
        )
    windows = score_windows(realised, [int(n) for n in monitor["windows"]])
    statuses = version_statuses(windows, monitor)
    rolling = rolling_scores(realised, int(settings["step"]), int(settings["window"]))
    for row in statuses.itertuples():
        logger.info(
            "%s v%s: %s over its last %d origins%s.",
            row.model_name,
            row.model_version,
            row.status,
            row.origins,
            f" ({row.reasons})" if row.reasons else "",
        )
    report = {
        "status_rule": settings,
        "versions": statuses.to_dict(orient="records"),
        "scores": windows.to_dict(orient="records"),
    }
    return report, rolling


def log_monitoring_metrics(rolling: pd.DataFrame, report: dict[str, Any], interval: str) -> None:
    """Each version's rolling scores to the active MLflow run, the origin as the step (in
    candles since 1970) and as the timestamp, so the MLflow UI draws them over time."""
    import mlflow

    run = mlflow.active_run()
    if run is None or rolling.empty:
        return
    candle_ms = interval_milliseconds(interval) or 31 * 86_400_000  # months: ~31 days
    metrics = []
    keys = [c for c in rolling.columns if c.startswith(("coverage_", "interval_score_ratio_"))]
    keys += ["rmse_ratio"]
    for row in rolling.to_dict(orient="records"):
        origin = pd.Timestamp(row["origin"])
        step = int(origin.timestamp() * 1000) // candle_ms
        prefix = f"monitor.{row['model_name']}.v{row['model_version']}"
        metrics += [
            Metric(f"{prefix}.{key}", float(row[key]), int(origin.timestamp() * 1000), step)
            for key in keys
            if pd.notna(row[key])
        ]
    client = MlflowClient()
    for start in range(0, len(metrics), 1000):  # MLflow's batch limit
        client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])
    statuses = {v["model_version"]: v["status"] for v in report["versions"]}
    mlflow.set_tags({f"monitor_status_v{version}": s for version, s in statuses.items()})


def update_registry(
    report: dict[str, Any], registry: dict[str, Any], monitor: dict[str, Any]
) -> dict[str, Any]:
    """Tag each judged version with its status; with ``demote_on_alarm``, an alarmed
    champion gives the alias back to the previous champion. Returns the report with what
    was done to the registry."""
    client = MlflowClient()
    statuses = pd.DataFrame(report["versions"])
    tag_statuses(client, registry, statuses)
    demotion = demote_alarmed(client, registry, statuses) if monitor["demote_on_alarm"] else None
    return {
        **report,
        "registry": {"tagged": statuses["model_version"].tolist(), "demotion": demotion},
    }


def draw_monitoring_report(
    realised: pd.DataFrame, rolling: pd.DataFrame, report: dict[str, Any], symbol: str
) -> Any:
    """The HTML report's figure: forecasts against closes, rolling coverage, score ratio."""
    from ...monitoring.report import monitoring_figure

    return monitoring_figure(realised, rolling, report, symbol)
