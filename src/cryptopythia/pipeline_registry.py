"""Project pipelines."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from kedro.pipeline import Pipeline, pipeline

from cryptopythia import pipelines as pipelines_package
from cryptopythia.pairs import SHARED_DATASETS, Pair, session_pairs
from cryptopythia.pipelines.pairs import create_summary_pipelines

# `kedro run --pipeline training`: the stages, in order, that take Binance candles to a
# registered model.
TRAINING_STAGES = ("data_engineering", "feature_engineering", "modelling")


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


# The registered pipelines made of several stages.
COMBINATIONS = {
    "training": TRAINING_STAGES,
    # `kedro run --pipeline forecast`: refresh the candles, then forecast.
    "forecast": ("data_engineering", "inference"),
}


def _with_combinations(stages: dict[str, Pipeline]) -> dict[str, Pipeline]:
    """The stages plus ``training`` and ``forecast`` (those whose stages are given), the
    runs users ask for by name."""
    combined = dict(stages)
    for name, parts in COMBINATIONS.items():
        if all(part in stages for part in parts):
            combined[name] = Pipeline([stages[part] for part in parts])
    return combined


def _per_pair(single: Pipeline, pairs: list[Pair]) -> Pipeline:
    """One namespaced instance of ``single`` per pair (``kedro run --namespaces ethusdt_1d``).

    One Pipeline of all the instances, not a sum: every ``+`` builds and validates a new
    Pipeline of all the nodes so far (a topological sort, the namespaces), so adding the
    pairs one by one grew as the square of their number (minutes at 500 pairs).
    """
    shared = SHARED_DATASETS & single.inputs()
    return Pipeline([pipeline(single, namespace=p.namespace, inputs=shared) for p in pairs])


def _requested_stages(stages: dict[str, Pipeline]) -> set[str]:
    """The stages of the pipelines this run asked for (``kedro run --pipelines``); all of
    them when it asked for none, for ``__default__`` or for no registered name.

    Kedro 1.7 records the requested names before it loads the registry and its own
    ``find_pipelines`` builds only those; so does this registry when pairs are listed, as
    namespacing every stage for every pair was a large part of the start-up (the
    ``_requested_pipelines`` it reads is the attribute ``find_pipelines`` reads).
    """
    from kedro.framework.project import pipelines as project_pipelines

    requested = getattr(project_pipelines, "_requested_pipelines", None)
    known = set(stages) | set(COMBINATIONS)
    if not requested or "__default__" in requested or not known & set(requested):
        return set(stages)
    return {part for name in requested if name in known for part in COMBINATIONS.get(name, (name,))}


def register_pipelines() -> dict[str, Pipeline]:
    """Register the stage pipelines, ``training`` and ``forecast``: once, or, when the
    parameters list ``pairs``, once per pair in its namespace plus a summary across pairs.

    With pairs, each stage a run needs is namespaced once per pair (only those of the
    pipelines the run asked for, as Kedro's ``find_pipelines``); ``training`` and
    ``forecast`` combine those namespaced stages, as they combine the single stages.
    """
    stages = _find_all_pipelines()
    pairs = session_pairs()
    if not pairs:
        pipelines = _with_combinations(stages)
    else:
        needed = _requested_stages(stages)
        pipelines = _with_combinations(
            {name: _per_pair(single, pairs) for name, single in stages.items() if name in needed}
        )
        summaries = create_summary_pipelines([p.namespace for p in pairs])
        for name, summary in summaries.items():
            if name in pipelines:
                pipelines[name] = Pipeline([pipelines[name], summary])
    if "training" in pipelines:
        pipelines["__default__"] = pipelines["training"]
    return pipelines
