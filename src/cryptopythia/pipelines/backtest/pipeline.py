"""backtest: walk-forward folds, baselines, metrics, intervals and the champion gate."""

from kedro.pipeline import Pipeline, node, pipeline

from ...backtest.scoring import (
    backtest_metrics,
    compare_with_naive,
    plot_backtest,
    score_backtest,
)
from ...backtest.walk_forward import (
    make_fold_table,
    walk_forward_baselines,
    walk_forward_network,
)
from .nodes import gate_champion


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                make_fold_table,
                inputs=["gold", "params:modelling", "params:backtest"],
                outputs=["backtest_model_table", "backtest_spec", "backtest_folds"],
                name="prepare_backtest",
            ),
            node(
                walk_forward_network,
                inputs=[
                    "backtest_model_table",
                    "backtest_spec",
                    "backtest_folds",
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
                    "backtest_folds",
                    "params:backtest",
                ],
                outputs="backtest_baseline_forecasts",
                name="backtest_baselines",
            ),
            node(
                score_backtest,
                inputs=[
                    "backtest_network_forecasts",
                    "backtest_baseline_forecasts",
                    "backtest_model_table",
                    "backtest_folds",
                ],
                outputs="backtest_table",
                name="score_backtest",
            ),
            node(
                compare_with_naive,
                inputs=["backtest_network_forecasts", "backtest_baseline_forecasts"],
                outputs="backtest_comparison",
                name="compare_with_naive",
            ),
            node(
                backtest_metrics,
                inputs=["backtest_table", "backtest_comparison", "params:modelling.network_name"],
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
                    "backtest_table",
                    "backtest_comparison",
                    "params:backtest.gate",
                    "params:modelling.registry",
                    "params:modelling",
                ],
                outputs="gate_decision",
                name="gate_champion",
            ),
        ]
    )
