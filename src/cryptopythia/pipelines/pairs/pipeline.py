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


def _summary_pipeline(namespaces: list[str], summarise, report: str, stage: str) -> Pipeline:
    """``summarise`` every pair's ``report`` into ``pairs_<stage>_summary`` and its metrics."""
    return pipeline(
        [
            node(
                summarise,
                inputs={ns: f"{ns}.{report}" for ns in namespaces},
                outputs=f"pairs_{stage}_summary",
                name=f"summarise_pairs_{stage}",
            ),
            node(
                pair_metrics,
                inputs=f"pairs_{stage}_summary",
                outputs=f"pairs_{stage}_metrics_mlflow",
                name=f"log_pairs_{stage}_metrics",
            ),
        ],
        tags="pairs",
    )


def _summary_pipelines(namespaces: list[str]) -> dict[str, Pipeline]:
    training = _summary_pipeline(namespaces, summarise_training, "modelling_report", "training")
    backtest = _summary_pipeline(namespaces, summarise_backtests, "backtest_summary", "backtest")
    return {"training": training, "modelling": training, "backtest": backtest}
