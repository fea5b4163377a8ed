"""feature_engineering: silver -> gold; the nodes are the steps of ``cryptopythia.features.build_gold``."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import check_parameters, check_silver, compute_features, drop_warmup


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                check_parameters,
                inputs=["params:feature_engineering", "params:data_engineering.interval"],
                outputs="feature_config",
                name="check_feature_parameters",
            ),
            node(
                check_silver,
                inputs=["silver", "feature_config"],
                outputs="feature_candles",
                name="check_silver",
            ),
            node(
                compute_features,
                inputs=["feature_candles", "feature_config"],
                outputs="features_with_warmup",
                name="compute_features",
            ),
            node(
                drop_warmup,
                inputs=["features_with_warmup", "feature_config"],
                outputs="gold",
                name="drop_warmup",
            ),
        ],
        tags="feature_engineering",  # for kedro-viz and kedro run --tags
    )
