"""Nodes of the backtest pipeline that are not library functions as they stand: the origin
table with the feature units, and the champion gate on the walk-forward's verdict."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from ...backtest.walk_forward import make_origin_table
from ...candles import interval_of
from ...features import check_parameters
from ...model.spec import ModelSpec
from ...registry.aliases import move_alias, record_previous
from ...registry.promotion import gate_staging

logger = logging.getLogger(__name__)


def prepare_backtest(
    gold: pd.DataFrame,
    modelling: dict[str, Any],
    feature_params: dict[str, Any],
    backtest: dict[str, Any],
) -> tuple[pd.DataFrame, ModelSpec, pd.DataFrame]:
    """The model table, window spec and origin table of the registered recipe."""
    units = check_parameters(feature_params, interval_of(gold["open_time"]))["units"]
    return make_origin_table(gold, modelling, units, backtest)


def gate_champion(
    summary: dict[str, Any],
    gate: dict[str, Any],
    registry: dict[str, Any],
    modelling: dict[str, Any],
) -> dict[str, Any]:
    """Give ``champion`` to the ``staging`` network, scaler and pyfunc together when the
    walk-forward passes the gate and its test score beats the champion's; tag the verdict
    and every number on the model version either way."""
    client = MlflowClient()
    staging, promote, reason = gate_staging(client, registry, modelling, summary, gate)
    model_name = registry["model_name"]
    if staging is not None and not reason.startswith("gate skipped"):
        tags = {"backtest_gate": reason[:5000], "backtest_promoted": str(promote)}
        for step, values in summary["steps"].items():
            tags.update({f"backtest_step_{step}_{k}": f"{v:.6g}" for k, v in values.items()})
        for key, value in tags.items():
            client.set_model_version_tag(model_name, staging.version, key, value)
    if promote:
        record_previous(client, model_name, str(staging.version), registry["champion_alias"])
        partners = {
            registry["scaler_name"]: staging.tags.get("scaler_version"),
            registry["serving_model_name"]: staging.tags.get("serving_version"),
        }
        move_alias(
            client,
            {model_name: str(staging.version), **{n: v for n, v in partners.items() if v}},
            registry["champion_alias"],
        )
    logger.info("Gate for %s: %s.", model_name, reason)
    return {
        "model": model_name,
        "version": None if staging is None else staging.version,
        "promoted": promote,
        "reason": reason,
        **summary,
    }
