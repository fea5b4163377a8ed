"""conf/base/catalog*.yml: every dataset sits in a kedro-viz layer, so the graph reads
raw -> intermediate -> primary -> ... -> reporting."""

from __future__ import annotations

import yaml

from conftest import PROJECT_ROOT

LAYERS = {
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
}
FOLDER_LAYERS = {
    "01_raw": "raw",
    "02_intermediate": "intermediate",
    "03_primary": "primary",
    "04_feature": "feature",
    "05_model_input": "model_input",
    "06_models": "models",
    "07_model_output": "model_output",
    "08_reporting": "reporting",
}


def _entries() -> dict[str, dict]:
    entries = {}
    for path in sorted((PROJECT_ROOT / "conf" / "base").glob("catalog*.yml")):
        entries.update(yaml.safe_load(path.read_text()) or {})
    return entries


def _filepath(entry: dict) -> str | None:
    return entry.get("filepath") or (entry.get("dataset") or {}).get("filepath")


def test_every_catalog_entry_has_a_kedro_viz_layer_matching_its_data_folder():
    entries = _entries()
    assert {"bronze", "silver", "gold"} <= set(entries)
    for name, entry in entries.items():
        layer = ((entry.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
        assert layer in LAYERS, f"{name}: metadata.kedro-viz.layer={layer!r}"
        filepath = _filepath(entry)
        if filepath:
            # every file under the one root the cluster env moves to an object store
            assert filepath.startswith("${globals:data_root}/"), f"{name}: {filepath}"
            assert FOLDER_LAYERS[filepath.split("/")[1]] == layer, f"{name}: {filepath}"


def test_every_node_carries_its_stage_tag():
    # kedro-viz filters by tag and `kedro run --tags modelling` runs one stage of training
    from cryptopythia.pipeline_registry import register_pipelines

    registered = register_pipelines()
    stages = [name for name in registered if name not in ("training", "forecast", "__default__")]
    assert {"data_engineering", "feature_engineering", "modelling", "inference", "backtest"} <= set(
        stages
    )
    for stage in stages:
        untagged = [n.name for n in registered[stage].nodes if stage not in n.tags]
        assert not untagged, f"{stage} nodes without the '{stage}' tag: {untagged}"
    training = registered["training"].only_nodes_with_tags("modelling")
    assert set(training.nodes) == set(registered["modelling"].nodes)
