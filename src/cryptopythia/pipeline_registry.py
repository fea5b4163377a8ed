"""Project pipelines."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from kedro.pipeline import Pipeline, pipeline

from cryptopythia import pipelines as pipelines_package
from cryptopythia.pairs import Pair, session_pairs
from cryptopythia.pipelines.pairs import create_summary_pipelines

# `kedro run --pipeline training`: the stages, in order, that take Binance candles to a
# registered model.
TRAINING_STAGES = ("data_engineering", "feature_engineering", "modelling")
# Shared by every pair: one Binance client (one rate limit).
SHARED_DATASETS = {"binance_client"}


def _find_all_pipelines() -> dict[str, Pipeline]:
    """``create_pipeline()`` of every stage package under ``pipelines/``.

    Not ``kedro.framework.project.find_pipelines``: since Kedro 1.7 it imports only
    the pipelines named by ``--pipeline``, so ``--pipeline training`` (no folder of
    its own) or any single stage would miss the stages ``training`` is made of.
    """
    return {
        module.name: import_module(f"{pipelines_package.__name__}.{module.name}").create_pipeline()
        for module in pkgutil.iter_modules(pipelines_package.__path__)
        if module.ispkg and module.name != "pairs"
    }


def _with_combinations(stages: dict[str, Pipeline]) -> dict[str, Pipeline]:
    """The stages plus ``training`` and ``forecast``, the runs users ask for by name."""
    combined = dict(stages)
    combined["training"] = Pipeline([stages[s] for s in TRAINING_STAGES])
    # `kedro run --pipeline forecast`: refresh the candles, then forecast.
    combined["forecast"] = Pipeline([stages["data_engineering"], stages["inference"]])
    return combined


def _per_pair(single: Pipeline, pairs: list[Pair]) -> Pipeline:
    """One namespaced instance of ``single`` per pair (``kedro run --namespaces ethusdt_1d``).

    One Pipeline of all the instances, not a sum: every ``+`` builds and validates a new
    Pipeline of all the nodes so far (a topological sort, the namespaces), so adding the
    pairs one by one grew as the square of their number (minutes at 500 pairs).
    """
    shared = SHARED_DATASETS & single.inputs()
    return Pipeline([pipeline(single, namespace=p.namespace, inputs=shared) for p in pairs])


def register_pipelines() -> dict[str, Pipeline]:
    """Register the stage pipelines, ``training`` and ``forecast``: once, or, when the
    parameters list ``pairs``, once per pair in its namespace plus a summary across pairs.

    Each stage is namespaced once per pair; ``training`` and ``forecast`` combine those
    namespaced stages, as they combine the single stages.
    """
    stages = _find_all_pipelines()
    pairs = session_pairs()
    if not pairs:
        pipelines = _with_combinations(stages)
    else:
        pipelines = _with_combinations(
            {name: _per_pair(single, pairs) for name, single in stages.items()}
        )
        summaries = create_summary_pipelines([p.namespace for p in pairs])
        for name, summary in summaries.items():
            pipelines[name] = Pipeline([pipelines[name], summary])
    pipelines["__default__"] = pipelines["training"]
    return pipelines
