"""Project pipelines."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from kedro.pipeline import Pipeline

from cryptopythia import pipelines as pipelines_package

# `kedro run --pipeline training`: the stages, in order, that take Binance candles to a
# registered model.
TRAINING_STAGES = ("data_engineering", "feature_engineering", "modelling")


def _find_all_pipelines() -> dict[str, Pipeline]:
    """``create_pipeline()`` of every package under ``pipelines/``.

    Not ``kedro.framework.project.find_pipelines``: since Kedro 1.7 it imports only
    the pipelines named by ``--pipeline``, so ``--pipeline training`` (no folder of
    its own) or any single stage would miss the stages ``training`` is made of.
    """
    return {
        module.name: import_module(f"{pipelines_package.__name__}.{module.name}").create_pipeline()
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg
    }


def register_pipelines() -> dict[str, Pipeline]:
    """Register the stage pipelines found under ``pipelines/`` and ``training``."""
    pipelines = _find_all_pipelines()
    pipelines["training"] = sum((pipelines[stage] for stage in TRAINING_STAGES), start=Pipeline([]))
    # `kedro run --pipeline forecast`: refresh the candles, then forecast.
    pipelines["forecast"] = pipelines["data_engineering"] + pipelines["inference"]
    pipelines["__default__"] = pipelines["training"]
    return pipelines
