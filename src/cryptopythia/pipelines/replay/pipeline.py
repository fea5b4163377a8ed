"""replay: registered model + silver -> the ledger rows of a daily forecast over past days."""

from kedro.pipeline import Pipeline, node, pipeline

from ..inference import create_pipeline as create_inference_pipeline
from .nodes import replay_forecasts


def create_pipeline(**kwargs) -> Pipeline:
    # the model is loaded as inference loads it (alias or version from params:inference)
    loading = create_inference_pipeline().only_nodes("load_forecaster")
    replaying = pipeline(
        [
            node(
                replay_forecasts,
                inputs=[
                    "silver",
                    "registered_forecaster",
                    "registered_model_info",
                    "params:inference",
                    "params:replay",
                    "params:data_engineering",
                ],
                outputs="forecast_ledger",
                name="replay_forecasts",
            ),
        ]
    )
    return pipeline(loading + replaying, tags="replay")
