"""Promotion rules: does a model beat the current ``champion``, and was it trained with the
recipe a backtest replayed."""

from __future__ import annotations

from typing import Any

from mlflow.tracking import MlflowClient

from .aliases import version_of

# Modelling parameters that do not change the recipe a backtest replays.
NOT_RECIPE = ("modelling.run_name", "modelling.verbose", "modelling.registry.")


def champion_decision(
    client: MlflowClient,
    model_name: str,
    champion_alias: str,
    metric: str,
    value: float,
) -> tuple[bool, str]:
    """Whether a model with test ``metric`` = ``value`` beats the current champion (lower
    is better), and why, in one sentence."""
    current = version_of(client, model_name, champion_alias)
    if current is None:
        return True, f"no '{champion_alias}' yet: first model with test {metric} {value:.4f}"
    current_value = current.tags.get(f"test_{metric}")
    if current_value is None and current.run_id:
        current_value = client.get_run(current.run_id).data.metrics.get(f"test.{metric}")
    if current_value is None:
        return True, (
            f"'{champion_alias}' v{current.version} has no test {metric} recorded; "
            f"replaced by test {metric} {value:.4f}"
        )
    current_value = float(current_value)
    if value < current_value:
        return True, (
            f"test {metric} {value:.4f} < {current_value:.4f} of '{champion_alias}' "
            f"v{current.version}"
        )
    return False, (
        f"test {metric} {value:.4f} >= {current_value:.4f} of '{champion_alias}' "
        f"v{current.version}: not promoted"
    )


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


def recipe_mismatch(client: MlflowClient, version: Any, modelling: dict[str, Any]) -> list[str]:
    """The modelling parameters whose value differs from the run that trained ``version``."""
    if not version.run_id:
        return []
    logged = client.get_run(version.run_id).data.params
    return sorted(
        key.removeprefix("modelling.")
        for key, value in _flatten(modelling, "modelling").items()
        if key in logged and not key.startswith(NOT_RECIPE) and logged[key] != value
    )


def training_candidacy(
    client: MlflowClient, registry: dict[str, Any], report: dict[str, Any]
) -> tuple[bool, str]:
    """Whether a just-trained model takes ``champion`` now (only when the backtest gate is
    not required), and why."""
    metric = registry["champion_metric"]
    value = float(report["test"][metric])
    promote, reason = champion_decision(
        client, registry["model_name"], registry["champion_alias"], metric, value
    )
    if promote and registry["champion_requires_backtest"]:
        return False, f"champion candidate ({reason}); the backtest gate decides"
    return promote, reason


def backtest_verdict(ratio: float, dm: dict[str, float], gate: dict[str, Any]) -> tuple[bool, str]:
    """Whether a backtest lets a model compete for ``champion``: its RMSE ratio to naive
    within ``max_ratio_to_naive`` and, when ``max_dm_p_value`` is set, a Diebold-Mariano
    test showing it better than naive."""
    limit, max_p = float(gate["max_ratio_to_naive"]), gate["max_dm_p_value"]
    if ratio > limit:
        return False, (
            f"backtest RMSE {ratio:.4f} x naive > backtest.gate.max_ratio_to_naive {limit}: "
            "not promoted"
        )
    if max_p is not None and not (dm["statistic"] < 0 and dm["p_value"] <= float(max_p)):
        return False, (
            f"backtest RMSE {ratio:.4f} x naive, but the Diebold-Mariano test does not show "
            f"it better than naive (statistic {dm['statistic']:.3f}, p {dm['p_value']:.3f} > "
            f"backtest.gate.max_dm_p_value {max_p}): not promoted"
        )
    return True, f"backtest RMSE {ratio:.4f} x naive <= {limit}"


def gate_staging(  # noqa: PLR0913
    client: MlflowClient,
    registry: dict[str, Any],
    modelling: dict[str, Any],
    ratio: float,
    dm: dict[str, float],
    gate: dict[str, Any],
) -> tuple[Any, bool, str]:
    """Apply the backtest gate to the ``staging`` version: its recipe must be the one the
    backtest replayed; returns the version, whether it becomes champion, and why."""
    model_name, staging_alias = registry["model_name"], registry["alias"]
    staging = version_of(client, model_name, staging_alias)
    if staging is None:
        raise ValueError(
            f"No '{model_name}@{staging_alias}' in the Model Registry to gate: run "
            "`kedro run --pipeline training` first, then the backtest."
        )
    mismatch = recipe_mismatch(client, staging, modelling)
    if mismatch:
        raise ValueError(
            f"{model_name} v{staging.version} (@{staging_alias}) was trained with other "
            f"modelling parameters ({', '.join(mismatch)}) than this backtest used; run "
            "training and backtest with the same parameters."
        )
    passes, reason = backtest_verdict(ratio, dm, gate)
    if not passes:
        return staging, False, reason
    metric = registry["champion_metric"]
    value = float(staging.tags.get(f"test_{metric}", "nan"))
    promote, test_reason = champion_decision(
        client, model_name, registry["champion_alias"], metric, value
    )
    return staging, promote, f"{reason}; {test_reason}"
