"""Loading a registered forecaster: the network by alias or version, the scaler registered
with it (by the version tag on the network's version, never by its own alias)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..model.artifacts import ArtifactError, load_network, load_scaler
from ..model.forecaster import Forecaster
from .aliases import forecaster_names, split_alias

logger = logging.getLogger(__name__)


def model_version(
    client: MlflowClient, name: str, inference: dict[str, Any], champion_alias: str
) -> Any:
    """The registered version named by ``inference.model_version`` or ``model_alias``; an
    error that says what exists and how to get the one asked for."""
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
        how = (
            f"'{champion_alias}' is granted by the backtest's quality gate only: run "
            "`kedro run --pipelines backtest` after training (see the gate's verdict in "
            "data/08_reporting/gate.json and the version's backtest_gate tag), or use "
            "--params inference.model_alias=staging"
            if version is None and alias == champion_alias
            else "Run `kedro run --pipelines training` first, or choose an existing one with "
            "--params inference.model_alias=<alias> or inference.model_version=<n>"
        )
        raise ValueError(
            f"No '{name}' with {wanted} in the Model Registry at {mlflow.get_tracking_uri()} "
            f"({known}). {how}."
        ) from error


def registered_file(name: str, version: str, flavor: str, load: Callable[[str], Any]) -> Any:
    """The object in the file of a registered version's ``flavor`` (the network's .keras,
    the scaler's skops file), read by this project's ``load`` (model.artifacts: the scaler
    with this project's trusted types, not the list its MLmodel file holds); an error
    naming the version and the file when it is missing, empty or not what it should be."""
    folder = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}"))
    try:
        conf = mlflow.models.Model.load(str(folder)).flavors.get(flavor)
        if conf is None:
            raise ArtifactError(f"it has no {flavor} flavor: it was not logged by this project")
        if flavor == "sklearn" and conf.get("serialization_format") != "skops":
            raise ArtifactError(
                f"its scaler is stored as {conf.get('serialization_format')!r}, not skops; "
                "this project loads skops scalers only"
            )
        # sklearn: model.skops at the top; tensorflow (Keras 3): data/model.keras
        file = conf.get("pickled_model") or str(Path(conf.get("data", "data")) / "model.keras")
        return load(str(folder / file))
    except ArtifactError as error:
        raise ValueError(
            f"{name} v{version} cannot be loaded: {error}. Its files in the artifact store "
            f"of {mlflow.get_tracking_uri()} are damaged or were replaced: register a new "
            "version (`kedro run --pipelines training`) or choose another with --params "
            "inference.model_version=<n>."
        ) from error


def load_forecaster(
    inference: dict[str, Any], registry: dict[str, Any]
) -> tuple[Forecaster, dict[str, Any]]:
    """The network (by alias or version) and the scaler registered with it, from the
    Model Registry, with the window and feature configuration stored as its metadata."""
    client = MlflowClient()
    version = model_version(client, registry["model_name"], inference, registry["champion_alias"])
    if inference["model_version"] is None:
        split = split_alias(client, forecaster_names(registry), inference["model_alias"])
        if split is not None:
            raise ValueError(
                f"The Model Registry is split: {split}, but the three must name one trained "
                "forecaster (a run stopped while moving aliases?). The next `kedro run "
                "--pipelines training` repairs it; or use --params inference.model_version=<n>."
            )
    model_uri = f"models:/{registry['model_name']}/{version.version}"
    scaler_version = version.tags.get("scaler_version")
    if scaler_version is None:
        raise ValueError(
            f"{registry['model_name']} v{version.version} has no 'scaler_version' tag: it "
            "was not registered by the training pipeline; train again."
        )
    metadata = mlflow.models.get_model_info(model_uri).metadata or {}
    network = registered_file(
        registry["model_name"], str(version.version), "tensorflow", load_network
    )
    scaler = registered_file(registry["scaler_name"], str(scaler_version), "sklearn", load_scaler)
    forecaster = Forecaster.from_artifacts(network, scaler, metadata)  # to_artifacts' dict
    info = {
        "model_name": registry["model_name"],
        "model_version": str(version.version),
        "model_alias": ""
        if inference["model_version"] is not None
        else str(inference["model_alias"]),
        "scaler_version": str(scaler_version),
    }
    if mlflow.active_run() is not None:  # lineage: which model and training run made this
        mlflow.set_tags(
            {
                "model_name": info["model_name"],
                "model_version": info["model_version"],
                "model_alias": info["model_alias"],
                "scaler_version": info["scaler_version"],
                "training_run_id": version.run_id or "",
            }
        )
    logger.info(
        "Loaded %s v%s (scaler v%s) from the registry.",
        info["model_name"],
        info["model_version"],
        scaler_version,
    )
    return forecaster, info
