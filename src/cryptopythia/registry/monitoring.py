"""What monitoring writes to the Model Registry: the ``monitor_status`` tag on each
monitored network version and its two partners, and, when asked, the demotion of an
alarmed champion to the champion before it (all three registered models together)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .aliases import forecaster_names, move_alias, partner_versions, version_of

logger = logging.getLogger(__name__)

STATUS_TAG = "monitor_status"


def tag_statuses(client: MlflowClient, registry: dict[str, Any], statuses: pd.DataFrame) -> None:
    """``monitor_status`` (and its reasons) on every network version judged and its scaler
    and served partners; a version deleted since its forecasts is skipped, with a warning."""
    names = forecaster_names(registry)
    for row in statuses[statuses["model_name"] == names["model"]].itertuples():
        try:
            model = client.get_model_version(names["model"], row.model_version)
        except MlflowException:
            logger.warning(
                "The ledger holds forecasts of %s v%s, which the Model Registry no longer has: "
                "scored, not tagged.",
                names["model"],
                row.model_version,
            )
            continue
        tags = {STATUS_TAG: row.status, f"{STATUS_TAG}_reasons": row.reasons[:5000] or "none"}
        for name, version in partner_versions(names, model).items():
            for key, value in tags.items():
                client.set_model_version_tag(name, version, key, value)


def demote_alarmed(
    client: MlflowClient, registry: dict[str, Any], statuses: pd.DataFrame
) -> str | None:
    """Move ``champion`` back to ``previous_champion`` (the tag set when it moved) when the
    champion's status is ``alarm``; returns what was done, or None when nothing was."""
    names, alias = forecaster_names(registry), registry["champion_alias"]
    champion = version_of(client, names["model"], alias)
    if champion is None:
        return None
    alarmed = statuses[
        (statuses["model_name"] == names["model"])
        & (statuses["model_version"] == str(champion.version))
        & (statuses["status"] == "alarm")
    ]
    if alarmed.empty:
        return None
    previous = champion.tags.get(f"previous_{alias}")
    try:
        back = client.get_model_version(names["model"], previous) if previous else None
    except MlflowException:  # deleted since
        back = None
    if back is None:
        message = (
            f"{names['model']} v{champion.version} (@{alias}) is in alarm but has no previous "
            f"{alias} to return to{f' (v{previous} was deleted)' if previous else ''}: "
            f"{alias} stays; retrain or move it by hand"
        )
        logger.error("%s.", message)
        return message
    move_alias(client, partner_versions(names, back), alias)
    message = (
        f"Demoted {names['model']} v{champion.version} (@{alias}, in alarm: "
        f"{alarmed['reasons'].iloc[0]}): {alias} is v{previous} again, with its scaler and "
        "served model"
    )
    logger.warning("%s.", message)
    return message
