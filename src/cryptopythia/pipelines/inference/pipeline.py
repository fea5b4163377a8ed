"""inference: registered network + scaler -> forecast to target_date (CSV + plot) and the
next candle's VaR/ES (risk.csv), recorded in the forecast ledger."""

from kedro.pipeline import Pipeline, node, pipeline

from ...registry.loading import load_forecaster
from .nodes import forecast_to_target, plot_forecast, record_forecast


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                load_forecaster,
                inputs=["params:inference", "params:modelling.registry"],
                outputs=["registered_forecaster", "registered_model_info"],
                name="load_forecaster",
            ),
            node(
                forecast_to_target,
                inputs=[
                    "silver",
                    "registered_forecaster",
                    "registered_model_info",
                    "params:inference",
                ],
                outputs=["forecast", "risk"],
                name="forecast_to_target",
            ),
            node(
                record_forecast,
                inputs=[
                    "forecast",
                    "silver",
                    "params:data_engineering.symbol",
                    "params:data_engineering.interval",
                ],
                outputs="forecast_ledger",
                name="record_forecast",
            ),
            node(
                plot_forecast,
                inputs=[
                    "silver",
                    "forecast",
                    "params:inference.plot_history_candles",
                    "params:data_engineering.symbol",
                ],
                outputs="forecast_plot",
                name="plot_forecast",
            ),
        ],
        tags="inference",  # for kedro-viz and kedro run --tags
    )
