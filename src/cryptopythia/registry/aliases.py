"""Registry aliases and versions: look-ups, and alias moves that happen all or not at all."""

from __future__ import annotations

import logging
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)


def forecaster_names(registry: dict[str, Any]) -> dict[str, str]:
    """The registered model names of one forecaster by role, from ``modelling.registry``."""
    return {
        "model": registry["model_name"],
        "scaler": registry["scaler_name"],
        "serving": registry["serving_model_name"],
    }


def version_of(client: MlflowClient, name: str, alias: str) -> Any | None:
    """The model version an alias points at, or None."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def model_exists(client: MlflowClient, name: str) -> bool:
    """Whether a registered model of that name exists."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        return False
    return True


def move_aliases(client: MlflowClient, versions: dict[str, str], aliases: list[str]) -> None:
    """Point every alias of each registered model at its version, all or none: on a failure
    the aliases already moved are put back where they were."""
    previous: dict[tuple[str, str], str | None] = {}
    try:
        for alias in aliases:
            for name, version in versions.items():
                current = version_of(client, name, alias)
                client.set_registered_model_alias(name, alias, version)
                previous[(name, alias)] = str(current.version) if current else None
    except Exception:
        _restore_aliases(client, previous)
        raise


def record_previous(client: MlflowClient, model_name: str, version: str, alias: str) -> None:
    """Tag network ``version`` with the version ``alias`` points at before it moves there
    (``previous_<alias>``): where a demotion of that alias returns to."""
    current = version_of(client, model_name, alias)
    if current is not None and str(current.version) != str(version):
        client.set_model_version_tag(model_name, str(version), f"previous_{alias}", current.version)


def partner_versions(names: dict[str, str], model: Any) -> dict[str, str]:
    """The network version ``model`` and its scaler and served partners, by registered name."""
    return {
        names["model"]: str(model.version),
        names["scaler"]: model.tags["scaler_version"],
        names["serving"]: model.tags["serving_version"],
    }


def move_alias(client: MlflowClient, versions: dict[str, str], alias: str) -> None:
    """Point ``alias`` of each registered model at its version, all or none."""
    move_aliases(client, versions, [alias])


def _restore_aliases(client: MlflowClient, previous: dict[tuple[str, str], str | None]) -> None:
    for (name, alias), version in previous.items():
        try:
            if version is None:
                client.delete_registered_model_alias(name, alias)
            else:
                client.set_registered_model_alias(name, alias, version)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not restore alias %s@%s: %s", name, alias, error)


def delete_versions(
    client: MlflowClient, created: list[tuple[str, str]], new_models: list[str]
) -> None:
    """Undo a partial registration: delete the created versions and the registered models
    it created."""
    for name, version in created:
        try:
            client.delete_model_version(name, version)
            logger.warning("Rolled back %s v%s after a failed registration.", name, version)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not delete %s v%s: %s", name, version, error)
    for name in new_models:
        try:
            if model_exists(client, name):
                client.delete_registered_model(name)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not delete the registered model %s: %s", name, error)


def split_alias(client: MlflowClient, names: dict[str, str], alias: str) -> str | None:
    """How ``alias`` disagrees across a forecaster's three registered models (network,
    scaler, served pyfunc; ``names`` by role), or None when they agree or none has it.
    They agree when the scaler and served versions are the network version's partners
    (its scaler_version and serving_version tags)."""
    found = {role: version_of(client, name, alias) for role, name in names.items()}
    if all(version is None for version in found.values()):
        return None
    model = found["model"]
    if model is not None and all(
        found[role] is not None and str(found[role].version) == model.tags.get(f"{role}_version")
        for role in ("scaler", "serving")
    ):
        return None
    return ", ".join(
        f"{names[role]}@{alias} = {'v' + str(v.version) if v else 'none'}"
        for role, v in found.items()
    )


def repair_split_alias(client: MlflowClient, names: dict[str, str], alias: str) -> bool:
    """Point a split ``alias`` back at one forecaster: the partners of the network version
    it names (completing a move cut short), else of the network version the served
    model's alias names. Returns whether anything was repaired."""
    split = split_alias(client, names, alias)
    if split is None:
        return False
    model = version_of(client, names["model"], alias)
    if model is None:
        serving = version_of(client, names["serving"], alias)
        model = client.get_model_version(names["model"], serving.tags["model_version"])
    move_alias(client, partner_versions(names, model), alias)
    logger.warning(
        "Repaired the split alias '%s' (%s): all three now point at network v%s's set.",
        alias,
        split,
        model.version,
    )
    return True
