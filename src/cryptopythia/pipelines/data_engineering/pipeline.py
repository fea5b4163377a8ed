"""data_engineering: Binance or kline dump -> bronze -> silver."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import fill_gaps, type_candles, update_bronze, validate_candles


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                update_bronze,
                inputs=["bronze_previous", "binance_client", "params:data_engineering"],
                outputs="bronze",
                name="update_bronze",
            ),
            node(type_candles, inputs="bronze", outputs="typed_candles", name="type_candles"),
            node(
                validate_candles,
                inputs=["typed_candles", "params:data_engineering.invalid_rows"],
                outputs="valid_candles",
                name="validate_candles",
            ),
            node(
                fill_gaps,
                inputs=[
                    "valid_candles",
                    "params:data_engineering.interval",
                    "params:data_engineering.gap_policy",
                ],
                outputs="silver",
                name="fill_gaps",
            ),
        ],
        tags="data_engineering",  # for kedro-viz and kedro run --tags
    )
