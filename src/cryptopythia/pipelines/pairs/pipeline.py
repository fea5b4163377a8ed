"""pairs: summary nodes across the namespaced pairs, added to the pipelines they summarise."""

import warnings

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import pair_metrics, summarise_backtests, summarise_training


def create_summary_pipelines(namespaces: list[str]) -> dict[str, Pipeline]:
    """For ``training``/``modelling``: a table of every pair's test skill; for
    ``backtest``: a table of every pair's walk-forward skill (CSV, MLflow artifact and
    metrics)."""
    with warnings.catch_warnings():
        # The summaries read each pair's namespaced outputs ("ethusdt_1d.modelling_report")
        # by name: the dots are Kedro's own namespacing, which its warning is about.
        warnings.filterwarnings("ignore", message="One or more dataset names contain '.'")
        return _summary_pipelines(namespaces)


def _summary_pipelines(namespaces: list[str]) -> dict[str, Pipeline]:
    training = pipeline(
        [
            node(
                summarise_training,
                inputs={ns: f"{ns}.modelling_report" for ns in namespaces},
                outputs="pairs_training_summary",
                name="summarise_pairs_training",
            ),
            node(
                pair_metrics,
                inputs="pairs_training_summary",
                outputs="pairs_training_metrics_mlflow",
                name="log_pairs_training_metrics",
            ),
        ],
        tags="pairs",
    )
    backtest = pipeline(
        [
            node(
                summarise_backtests,
                inputs={ns: f"{ns}.backtest_summary" for ns in namespaces},
                outputs="pairs_backtest_summary",
                name="summarise_pairs_backtest",
            ),
            node(
                pair_metrics,
                inputs="pairs_backtest_summary",
                outputs="pairs_backtest_metrics_mlflow",
                name="log_pairs_backtest_metrics",
            ),
        ],
        tags="pairs",
    )
    return {"training": training, "modelling": training, "backtest": backtest}
