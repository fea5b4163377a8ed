"""monitor: forecast_ledger + silver -> scores, a status per model version (JSON, HTML
report, MLflow metrics and registry tags)."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    draw_monitoring_report,
    log_monitoring_metrics,
    score_ledger,
    summarise_monitoring,
    update_registry,
)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                score_ledger,
                inputs=[
                    "forecast_ledger",
                    "silver",
                    "params:data_engineering.symbol",
                    "params:data_engineering.interval",
                    "params:modelling.intervals",
                ],
                outputs="realised_forecasts",
                name="score_ledger",
            ),
            node(
                summarise_monitoring,
                inputs=["realised_forecasts", "params:monitor"],
                outputs=["monitoring_scores", "monitoring_rolling"],
                name="summarise_monitoring",
            ),
            node(
                log_monitoring_metrics,
                inputs=[
                    "monitoring_rolling",
                    "monitoring_scores",
                    "params:data_engineering.interval",
                ],
                outputs=None,
                name="log_monitoring_metrics",
            ),
            node(
                update_registry,
                inputs=["monitoring_scores", "params:modelling.registry", "params:monitor"],
                outputs="monitoring",
                name="update_registry",
            ),
            node(
                draw_monitoring_report,
                inputs=[
                    "realised_forecasts",
                    "monitoring_rolling",
                    "monitoring",
                    "params:data_engineering.symbol",
                ],
                outputs="monitoring_report",
                name="draw_monitoring_report",
            ),
        ],
        tags="monitor",
    )
