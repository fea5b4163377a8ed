"""Nodes of the backtest pipeline that are not library functions as they stand: the
champion gate on the walk-forward's verdict."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from ...registry.aliases import move_alias
from ...registry.promotion import gate_staging

logger = logging.getLogger(__name__)


def gate_champion(  # noqa: PLR0913
    scores: pd.DataFrame,
    comparison: dict[str, Any],
    gate: dict[str, Any],
    registry: dict[str, Any],
    modelling: dict[str, Any],
) -> dict[str, Any]:
    """Give ``champion`` to the ``staging`` network, scaler and pyfunc together when the
    backtest passes the gate and its test score beats the champion's; tag why either way."""
    overall = scores[
        (scores["scope"] == "overall") & (scores["model"] == modelling["network_name"])
    ]
    ratio = float(overall["rmse_ratio_to_naive"].iloc[0])
    client = MlflowClient()
    staging, promote, reason = gate_staging(
        client, registry, modelling, ratio, comparison["overall"], gate
    )
    model_name = registry["model_name"]
    client.set_model_version_tag(model_name, staging.version, "backtest_gate", reason)
    client.set_model_version_tag(
        model_name, staging.version, "backtest_rmse_ratio_to_naive", f"{ratio:.6f}"
    )
    if promote:
        partners = {
            registry["scaler_name"]: staging.tags.get("scaler_version"),
            registry["serving_model_name"]: staging.tags.get("serving_version"),
        }
        move_alias(
            client,
            {model_name: str(staging.version), **{n: v for n, v in partners.items() if v}},
            registry["champion_alias"],
        )
    logger.info("Gate for %s v%s: %s.", model_name, staging.version, reason)
    return {
        "model": model_name,
        "version": staging.version,
        "backtest_rmse_ratio_to_naive": ratio,
        "max_ratio_to_naive": float(gate["max_ratio_to_naive"]),
        "promoted": promote,
        "reason": reason,
    }
