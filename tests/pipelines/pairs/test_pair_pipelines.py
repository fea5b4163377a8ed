"""The pipeline registry with a pair list: the same pipelines as namespacing each registered
pipeline per pair, built in time that grows with the pairs, not with their square."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from kedro.framework.project import pipelines as project_pipelines
from kedro.pipeline import Pipeline, pipeline

from cryptopythia import pipeline_registry
from cryptopythia.pairs import Pair
from cryptopythia.pipelines.pairs import create_summary_pipelines

# the module: the package's attribute of that name is the pipeline() function
kedro_pipeline = import_module("kedro.pipeline.pipeline")


def synthetic_pairs(count: int) -> list[Pair]:
    return [Pair(f"S{i:04d}USDT", "1d") for i in range(count)]


def registered(monkeypatch, pairs: list[Pair], requested=None) -> dict[str, Pipeline]:
    """The registry's pipelines for ``pairs``, when a run asked for ``requested``."""
    monkeypatch.setattr(pipeline_registry, "session_pairs", lambda: pairs)
    monkeypatch.setattr(project_pipelines, "_requested_pipelines", requested)
    return pipeline_registry.register_pipelines()


def nodes_validated(monkeypatch, pairs: list[Pair]) -> int:
    """How many nodes every Pipeline built by the registry validated, in all."""
    validated = [0]
    validate = kedro_pipeline._validate_transcoded_inputs_outputs

    def counting(nodes):
        validated[0] += len(nodes)
        return validate(nodes)

    with monkeypatch.context() as patch:
        patch.setattr(kedro_pipeline, "_validate_transcoded_inputs_outputs", counting)
        registered(patch, pairs)
    return validated[0]


def test_registering_twice_the_pairs_takes_about_twice_the_work(monkeypatch):
    # Adding the pairs' pipelines one by one (sum(...)) re-validated every node so far at
    # each pair: 4x the work for 2x the pairs, minutes at 500 pairs.
    few = nodes_validated(monkeypatch, synthetic_pairs(8))
    many = nodes_validated(monkeypatch, synthetic_pairs(16))
    assert many / few < 2.5, (few, many)


def test_each_pair_gets_every_registered_pipeline_in_its_namespace(monkeypatch):
    pairs = synthetic_pairs(3)
    single = registered(monkeypatch, [])
    listed = registered(monkeypatch, pairs)
    summaries = create_summary_pipelines([p.namespace for p in pairs])
    assert listed.keys() == single.keys()
    for name, one in single.items():
        shared = pipeline_registry.SHARED_DATASETS & one.inputs()
        expected = sum(
            (pipeline(one, namespace=p.namespace, inputs=shared) for p in pairs),
            start=Pipeline([]),
        )
        if name in summaries:
            expected += summaries[name]
        elif name == "__default__":
            expected += summaries["training"]
        assert set(listed[name].nodes) == set(expected.nodes), name
        for got in listed[name].nodes:
            [want] = [n for n in expected.nodes if n.name == got.name]
            assert (got.inputs, got.outputs, got.tags, got.namespace) == (
                want.inputs,
                want.outputs,
                want.tags,
                want.namespace,
            ), got.name
    assert listed["__default__"] is listed["training"]
    assert "s0001usdt_1d.update_bronze" in {n.name for n in listed["forecast"].nodes}


def test_with_pairs_a_run_gets_only_the_pipelines_it_asked_for(monkeypatch):
    # as Kedro 1.7's find_pipelines: `kedro run --pipelines training` namespaces the
    # training stages for every pair, not backtest, inference, monitor and replay too
    pairs = synthetic_pairs(2)
    every = registered(monkeypatch, pairs)
    training = registered(monkeypatch, pairs, ["training"])
    assert training.keys() == {"data_engineering", "feature_engineering", "modelling"} | {
        "training",
        "__default__",
    }
    assert set(training["training"].nodes) == set(every["training"].nodes)
    assert set(training["modelling"].nodes) == set(every["modelling"].nodes)  # + its summary
    forecast = registered(monkeypatch, pairs, ["forecast", "backtest"])
    for name in ("forecast", "backtest"):
        assert set(forecast[name].nodes) == set(every[name].nodes)
    assert "training" not in forecast
    for asked in (None, ["__default__"], ["no_such_pipeline"]):  # Kedro then lists them all
        assert registered(monkeypatch, pairs, asked).keys() == every.keys()
    assert registered(monkeypatch, [], ["training"]).keys() == every.keys()  # no pairs: all


def test_the_session_hook_keeps_the_pipelines_the_run_asked_for(monkeypatch):
    from cryptopythia.hooks import ProjectConfigHook
    from cryptopythia.session_config import forget_config_loader

    monkeypatch.setattr(project_pipelines, "_pipelines_module", None)
    monkeypatch.setattr(project_pipelines, "_requested_pipelines", None)
    project_pipelines.set_requested(["training"])
    try:
        ProjectConfigHook().after_context_created(SimpleNamespace(config_loader=None))
        assert project_pipelines._requested_pipelines == ["training"]
    finally:
        forget_config_loader()
        project_pipelines.configure(None)
