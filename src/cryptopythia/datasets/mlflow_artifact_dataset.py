"""kedro-mlflow's ``MlflowArtifactDataset`` for inner datasets on any fsspec store.

kedro-mlflow saves the inner dataset, then logs the file it wrote with
``mlflow.log_artifact(<local path>)``: an inner filepath on an object store
(``s3://bucket/...``, the `cluster` environment's data) has no local path, and the save
fails. For a local filepath this class *is* kedro-mlflow's dataset (the same object); for
a remote one it saves the inner dataset where its filepath says, then logs a temporary
local copy of what was written, so later nodes on other machines read the stored file
and the run still holds the artifact.

Example catalog entry (kedro-mlflow's keys; a remote inner dataset always loads from its
store, never from a run's artifacts, so ``run_id`` only says where to log)::

    modelling_report:
      type: cryptopythia.datasets.MlflowArtifactDataset
      artifact_path: reporting
      dataset:
        type: json.JSONDataset
        filepath: ${globals:data_root}/08_reporting/metrics.json
"""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset
from kedro_mlflow.io.artifacts import MlflowArtifactDataset as KedroMlflowArtifactDataset

LOCAL_PROTOCOLS = ("file", "local")


def is_local(filepath: str) -> bool:
    """Whether a dataset filepath is on this machine's file system (no fsspec protocol, or
    file://)."""
    return "://" not in filepath or filepath.split("://", 1)[0] in LOCAL_PROTOCOLS


class MlflowArtifactDataset(AbstractDataset):
    """An inner dataset saved to its own (local or remote) filepath and logged as an
    artifact of the MLflow run (the active one, or ``run_id``)."""

    def __new__(cls, dataset: str | dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if dataset is None:  # unpickling (a Dask worker's copy of the catalog)
            return super().__new__(cls)
        config = dataset if isinstance(dataset, dict) else {"type": dataset}
        if is_local(str(config.get("filepath", ""))):
            return KedroMlflowArtifactDataset(dataset=dataset, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        dataset: str | dict[str, Any],
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        config = dict(dataset) if isinstance(dataset, dict) else {"type": dataset}
        if credentials is not None:
            config.setdefault("credentials", credentials)
        self._config = config
        self._dataset = AbstractDataset.from_config("mlflow_artifact", config)
        self._filepath = str(config["filepath"])
        self.run_id, self.artifact_path, self.metadata = run_id, artifact_path, metadata
        self._logging_activated = True  # kedro-mlflow's hook switches it per pipeline

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        import fsspec
        import mlflow
        from mlflow.tracking import MlflowClient

        self._dataset.save(data)
        if not self._logging_activated:
            return
        fs_args = {  # the filesystem's own arguments, as kedro-datasets passes them
            key: value
            for key, value in (self._config.get("fs_args") or {}).items()
            if key not in ("open_args_load", "open_args_save")
        }
        options = {**fs_args, **(self._config.get("credentials") or {})}
        filesystem, path = fsspec.core.url_to_fs(self._filepath, **options)
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / posixpath.basename(path)
            filesystem.get(path, str(local))
            if self.run_id:
                MlflowClient().log_artifact(self.run_id, str(local), self.artifact_path)
            else:
                mlflow.log_artifact(str(local), self.artifact_path)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": self._dataset._describe(),
            "artifact_path": self.artifact_path,
            "run_id": self.run_id,
        }
