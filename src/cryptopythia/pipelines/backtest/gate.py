"""The quality gate: ``champion`` only for a model whose backtest beats naive persistence."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from ..modelling.registry import _version_of, champion_decision, move_alias
from .nodes import NETWORK

logger = logging.getLogger(__name__)

# Modelling parameters that do not change the recipe a backtest replays.
_NOT_RECIPE = ("modelling.run_name", "modelling.verbose", "modelling.registry.")


def _flatten(params: dict[str, Any], prefix: str) -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"<prefix>.a.b": "1"}``, as kedro-mlflow logs params."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = str(value)
    return flat


def _recipe_mismatch(client: MlflowClient, version: Any, modelling: dict[str, Any]) -> list[str]:
    """The modelling parameters whose value differs from the run that trained ``version``."""
    if not version.run_id:
        return []
    logged = client.get_run(version.run_id).data.params
    return sorted(
        key.removeprefix("modelling.")
        for key, value in _flatten(modelling, "modelling").items()
        if key in logged and not key.startswith(_NOT_RECIPE) and logged[key] != value
    )


def gate_champion(  # noqa: PLR0913
    scores: pd.DataFrame,
    comparison: dict[str, Any],
    gate: dict[str, Any],
    registry: dict[str, Any],
    modelling: dict[str, Any],
) -> dict[str, Any]:
    """Give the ``staging`` model (and its scaler) the ``champion`` alias when its recipe's
    backtest RMSE is at most ``max_ratio_to_naive`` x naive's and its test RMSE beats the
    current champion's; the reason is tagged on the model version either way."""
    overall = scores[(scores["scope"] == "overall") & (scores["model"] == NETWORK)]
    ratio = float(overall["rmse_ratio_to_naive"].iloc[0])
    limit = float(gate["max_ratio_to_naive"])
    model_name = registry["model_name"]
    staging_alias, champion_alias = registry["alias"], registry["champion_alias"]
    client = MlflowClient()
    staging = _version_of(client, model_name, staging_alias)
    if staging is None:
        raise ValueError(
            f"No '{model_name}@{staging_alias}' in the Model Registry to gate: run "
            "`kedro run --pipeline training` first, then the backtest."
        )
    mismatch = _recipe_mismatch(client, staging, modelling)
    if mismatch:
        raise ValueError(
            f"{model_name} v{staging.version} (@{staging_alias}) was trained with other "
            f"modelling parameters ({', '.join(mismatch)}) than this backtest used; run "
            "training and backtest with the same parameters."
        )
    dm = comparison["overall"]
    max_p = gate.get("max_dm_p_value")
    if ratio > limit:
        promote = False
        reason = (
            f"backtest RMSE {ratio:.4f} x naive > backtest.gate.max_ratio_to_naive {limit}: "
            "not promoted"
        )
    elif max_p is not None and not (dm["statistic"] < 0 and dm["p_value"] <= float(max_p)):
        promote = False
        reason = (
            f"backtest RMSE {ratio:.4f} x naive, but the Diebold-Mariano test does not show "
            f"it better than naive (statistic {dm['statistic']:.3f}, p {dm['p_value']:.3f} > "
            f"backtest.gate.max_dm_p_value {max_p}): not promoted"
        )
    else:
        metric = registry["champion_metric"]
        value = float(staging.tags.get(f"test_{metric}", "nan"))
        promote, test_reason = champion_decision(
            client, model_name, champion_alias, metric, value
        )
        reason = f"backtest RMSE {ratio:.4f} x naive <= {limit}; {test_reason}"
    client.set_model_version_tag(model_name, staging.version, "backtest_gate", reason)
    client.set_model_version_tag(model_name, staging.version, "backtest_rmse_ratio_to_naive",
                                 f"{ratio:.6f}")
    if promote:
        # The network, its scaler and the served pyfunc move together, or none does.
        partners = {registry["scaler_name"]: staging.tags.get("scaler_version"),
                    registry["serving_model_name"]: staging.tags.get("serving_version")}
        move_alias(client, {model_name: str(staging.version),
                            **{n: v for n, v in partners.items() if v}}, champion_alias)
    logger.info("Gate for %s v%s: %s.", model_name, staging.version, reason)
    return {
        "model": model_name,
        "version": staging.version,
        "backtest_rmse_ratio_to_naive": ratio,
        "max_ratio_to_naive": limit,
        "promoted": promote,
        "reason": reason,
    }
