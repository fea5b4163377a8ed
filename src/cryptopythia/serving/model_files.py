"""The served model's files: the Forecaster rebuilt from the pyfunc's artifacts (network,
scaler, config), its replay traced before the first request, and a name for the model
those files belong to (for errors about them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np

from ..model.artifacts import ArtifactError, load_network, load_scaler
from ..model.forecaster import Forecaster
from ..model.replay import series_predictions


def forecaster_from_artifacts(artifacts: dict[str, str]) -> Forecaster:
    """A Forecaster from the pyfunc's artifact files (network, scaler, config); an
    ArtifactError naming the file that is missing, empty or not what this project wrote."""
    if not os.path.exists(artifacts["config"]):
        raise ArtifactError("its configuration file config.json is missing")
    with open(artifacts["config"]) as file:
        config = json.load(file)
    # skops, not pickle, with this project's own trusted types (model.artifacts)
    scaler = load_scaler(artifacts["scaler"])
    network = load_network(artifacts["network"])
    return Forecaster.from_artifacts(network, scaler, config)  # the limits in it: ignored


def warm_up(forecaster: Forecaster) -> None:
    """Trace the network's replay at the size every request replays, so the first request
    does not pay for it (nothing to do when every shrinkage weight is 0: it is not run)."""
    if not any(forecaster.shrinkage):
        return
    spec = forecaster.spec
    rows = forecaster.replay_origins + spec.horizon + spec.n_timesteps
    series_predictions(
        forecaster.model, np.zeros((rows, len(spec.scaler_columns))), spec.n_timesteps
    )


def describe_model(artifacts: dict[str, str]) -> str:
    """ "<name> v<version> (logged model <id>, run <id>)" of the pyfunc whose artifact files
    these are, from its MLmodel file and the Model Registry; what is known of it when they
    cannot be read."""
    folder = Path(next(iter(artifacts.values()))).parent.parent  # <model>/artifacts/<file>
    try:
        meta = mlflow.models.Model.load(str(folder))
    except Exception:  # an unreadable MLmodel: the folder is all there is to name
        return f"at {folder}"
    logged = f"logged model {meta.model_id}, run {meta.run_id}"
    name = meta.metadata.get("registered_name") if meta.metadata else None
    try:
        versions = mlflow.MlflowClient().search_model_versions(f"name='{name}'") if name else []
        source = f"models:/{meta.model_id}"  # a version's source: the logged model
        version = next(
            v.version for v in versions if source == v.source or v.model_id == meta.model_id
        )
    except Exception:  # no registry reachable, or not registered: the ids still name it
        return f"{name or 'pyfunc'} ({logged})"
    return f"{name} v{version} ({logged})"
