"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# `kedro run --pipeline training`: the stages, in order, that take Binance candles to a
# registered model.
TRAINING_STAGES = ("data_engineering",)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the stage pipelines found under ``pipelines/`` and ``training``."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["training"] = sum(
        (pipelines[stage] for stage in TRAINING_STAGES), start=Pipeline([])
    )
    pipelines["__default__"] = pipelines["training"]
    return pipelines
