"""Loading a registered forecaster: the network by alias or version, the scaler registered
with it (by the version tag on the network's version, never by its own alias)."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..model.forecaster import Forecaster

logger = logging.getLogger(__name__)


def model_version(client: MlflowClient, name: str, inference: dict[str, Any]) -> Any:
    version, alias = inference["model_version"], inference["model_alias"]
    try:
        if version is not None:
            return client.get_model_version(name, str(version))
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        wanted = f"version {version}" if version is not None else f"alias '{alias}'"
        try:
            aliases = sorted(client.get_registered_model(name).aliases)
            known = f"it has the aliases {aliases}" if aliases else "it has no alias"
        except MlflowException:
            known = "no such registered model exists yet"
        raise ValueError(
            f"No '{name}' with {wanted} in the Model Registry at {mlflow.get_tracking_uri()} "
            f"({known}). Run `kedro run --pipeline training` first, or choose an existing "
            "one with --params inference.model_alias=<alias> or inference.model_version=<n>."
        ) from error


def load_forecaster(
    inference: dict[str, Any], registry: dict[str, Any]
) -> tuple[Forecaster, dict[str, Any]]:
    """The network (by alias or version) and the scaler registered with it, from the
    Model Registry, with the window and feature configuration stored as its metadata."""
    import mlflow.sklearn  # imports TensorFlow: only when a model is loaded/logged
    import mlflow.tensorflow

    client = MlflowClient()
    version = model_version(client, registry["model_name"], inference)
    model_uri = f"models:/{registry['model_name']}/{version.version}"
    scaler_version = version.tags.get("scaler_version")
    if scaler_version is None:
        raise ValueError(
            f"{registry['model_name']} v{version.version} has no 'scaler_version' tag: it "
            "was not registered by the training pipeline; train again."
        )
    metadata = mlflow.models.get_model_info(model_uri).metadata or {}
    forecaster = Forecaster(
        model=mlflow.tensorflow.load_model(model_uri),
        scaler=mlflow.sklearn.load_model(f"models:/{registry['scaler_name']}/{scaler_version}"),
        spec=metadata,  # the window spec, stored as the model's metadata
        feature_params=metadata["feature_params"],
        interval=metadata["interval"],
        radii=metadata["radii"],
    )
    info = {
        "model_name": registry["model_name"],
        "model_version": str(version.version),
        "model_alias": ""
        if inference["model_version"] is not None
        else str(inference["model_alias"]),
        "scaler_version": str(scaler_version),
    }
    logger.info(
        "Loaded %s v%s (scaler v%s) from the registry.",
        info["model_name"],
        info["model_version"],
        scaler_version,
    )
    return forecaster, info
