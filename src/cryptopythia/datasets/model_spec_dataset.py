"""The window spec (``model.spec.ModelSpec``) as a JSON file: the modelling pipeline's
``window_spec``, passed between its nodes typed and frozen and kept as readable JSON."""

from __future__ import annotations

from kedro_datasets.json import JSONDataset

from ..model.spec import ModelSpec


class ModelSpecDataset(JSONDataset):
    """``json.JSONDataset`` that saves a ``ModelSpec`` as its dict and loads it back typed:
    a node reading the spec from the catalog gets what the node that made it returned."""

    def load(self) -> ModelSpec:
        return ModelSpec.from_dict(super().load())

    def save(self, data: ModelSpec) -> None:
        super().save(data.to_dict())
