"""backtest: a dense walk-forward of the registered recipe against baselines, its scores by
step, and the champion gate."""

from kedro.pipeline import Pipeline, node, pipeline

from ...backtest.baseline_walk import walk_forward_baselines
from ...backtest.scoring import backtest_metrics, plot_backtest, score_backtest, summarise_network
from ...backtest.walk_forward import walk_forward_network
from .nodes import gate_champion, prepare_backtest


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                prepare_backtest,
                inputs=[
                    "gold",
                    "params:modelling",
                    "params:feature_engineering",
                    "params:backtest",
                ],
                outputs=["backtest_model_table", "backtest_spec", "backtest_origins"],
                name="prepare_backtest",
            ),
            node(
                walk_forward_network,
                inputs=[
                    "backtest_model_table",
                    "backtest_spec",
                    "backtest_origins",
                    "silver",
                    "params:modelling",
                    "params:feature_engineering",
                    "params:backtest",
                ],
                outputs="backtest_network_forecasts",
                name="backtest_network",
            ),
            node(
                walk_forward_baselines,
                inputs=[
                    "backtest_model_table",
                    "backtest_spec",
                    "backtest_origins",
                    "params:backtest",
                    "params:modelling.intervals",
                ],
                outputs="backtest_baseline_forecasts",
                name="backtest_baselines",
            ),
            node(
                score_backtest,
                inputs=[
                    "backtest_network_forecasts",
                    "backtest_baseline_forecasts",
                    "params:backtest.scoring",
                ],
                outputs="backtest_table",
                name="score_backtest",
            ),
            node(
                summarise_network,
                inputs=["backtest_table", "params:modelling.network_name"],
                outputs="backtest_summary",
                name="summarise_network",
            ),
            node(
                backtest_metrics,
                inputs=["backtest_table", "params:modelling.network_name"],
                outputs="backtest_metrics_mlflow",
                name="log_backtest_metrics",
            ),
            node(
                plot_backtest,
                inputs=["backtest_table", "params:modelling.network_name"],
                outputs="backtest_plot",
                name="plot_backtest",
            ),
            node(
                gate_champion,
                inputs=[
                    "backtest_summary",
                    "params:backtest.gate",
                    "params:modelling.registry",
                    "params:modelling",
                ],
                outputs="gate_decision",
                name="gate_champion",
            ),
        ],
        tags="backtest",  # for kedro-viz and kedro run --tags
    )
