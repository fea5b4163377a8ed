"""Promotion rules: does a model beat the current ``champion``, and was it trained with the
recipe a backtest replayed."""

from __future__ import annotations

from typing import Any

from mlflow.tracking import MlflowClient

from ..backtest.scoring import best_anchor_score
from ..parameters import flatten
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


def recipe_mismatch(client: MlflowClient, version: Any, modelling: dict[str, Any]) -> list[str]:
    """The modelling parameters whose value differs from the run that trained ``version``."""
    if not version.run_id:
        return []
    logged = client.get_run(version.run_id).data.params
    return sorted(
        key.removeprefix("modelling.")
        for key, value in flatten({"modelling": modelling}).items()
        if key in logged and not key.startswith(NOT_RECIPE) and logged[key] != str(value)
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


def backtest_verdict(summary: dict[str, Any], gate: dict[str, Any]) -> tuple[bool, str]:
    """Whether a dense walk-forward lets a model compete for ``champion``: at every step its
    RMSE ratio to naive within ``max_ratio_to_naive``, no Diebold-Mariano evidence that it
    is worse than naive (one-sided p >= ``dm_worse_p_value``), 80% coverage inside
    ``coverage_80``, an 80% interval score at most ``max_interval_score_ratio`` times the
    best random-walk anchor's at that step (the lowest of the anchors run), and at the
    steps ``var_test_steps`` neither Kupiec's nor Christoffersen's test rejects its lower
    quantiles as Values-at-Risk (p >= ``var_test_p_value``)."""
    low, high = (float(v) for v in gate["coverage_80"])
    ratio = float(gate["max_interval_score_ratio"])
    var_p = float(gate.get("var_test_p_value", 0.0))
    var_steps = {int(step) for step in gate.get("var_test_steps", [1])}
    failures = []
    for step, values in sorted(summary["steps"].items()):
        anchor, best = best_anchor_score(summary, step)
        anchor = anchor or "anchor"
        score = values.get("interval_score_80", float("inf"))
        checks = {
            f"RMSE ratio {values['rmse_ratio_to_naive']:.4f} > {gate['max_ratio_to_naive']}": values[
                "rmse_ratio_to_naive"
            ]
            > float(gate["max_ratio_to_naive"]),
            f"DM shows it worse than naive (p {values['dm_p_worse']:.3f} < "
            f"{gate['dm_worse_p_value']})": values["dm_p_worse"] < float(gate["dm_worse_p_value"]),
            f"80% coverage {values.get('coverage_80', float('nan')):.3f} outside [{low}, {high}]": not low
            <= values.get("coverage_80", float("nan"))
            <= high,
            f"80% interval score {score:.0f} > {ratio} x the best anchor's ({anchor}) "
            f"{best:.0f}": not score <= ratio * best,
        }
        for test in ("kupiec", "christoffersen") if int(step) in var_steps else ():
            for name, p_value in sorted(values.items()):
                if name.startswith(f"{test}_p_") and p_value < var_p:
                    level = name.removeprefix(f"{test}_p_")
                    checks[
                        f"{test.capitalize()} rejects the {level}% VaR (p {p_value:.3f} < {var_p})"
                    ] = True
        failures += [f"step {step}: {text}" for text, failed in checks.items() if failed]
    if failures:
        return False, "walk-forward gate failed: " + "; ".join(failures) + ": not promoted"
    return True, (
        f"walk-forward gate passed at every step 1-{max(summary['steps'])} (RMSE ratio <= "
        f"{gate['max_ratio_to_naive']}, no DM evidence of worse, 80% coverage in [{low}, {high}], "
        f"interval score <= {ratio} x the best anchor's, VaR tests at steps "
        f"{sorted(var_steps)} not rejected at {var_p})"
    )


def gate_staging(
    client: MlflowClient,
    registry: dict[str, Any],
    modelling: dict[str, Any],
    summary: dict[str, Any],
    gate: dict[str, Any],
) -> tuple[Any, bool, str]:
    """Apply the backtest gate to the ``staging`` version, when the backtest replayed its
    recipe (else the gate is skipped, with the reason); returns the version (None when
    there is none), whether it becomes champion, and why."""
    model_name, staging_alias = registry["model_name"], registry["alias"]
    staging = version_of(client, model_name, staging_alias)
    if staging is None:
        return (
            None,
            False,
            (
                f"gate skipped: no '{model_name}@{staging_alias}' in the Model Registry (run "
                "`kedro run --pipeline training` first); the backtest evaluated the recipe only"
            ),
        )
    mismatch = recipe_mismatch(client, staging, modelling)
    if mismatch:
        return (
            staging,
            False,
            (
                f"gate skipped: {model_name} v{staging.version} (@{staging_alias}) was trained "
                f"with other modelling parameters ({', '.join(mismatch)}) than this backtest "
                "replayed; train with the same parameters to gate it"
            ),
        )
    passes, reason = backtest_verdict(summary, gate)
    if not passes:
        return staging, False, reason
    metric = registry["champion_metric"]
    value = float(staging.tags.get(f"test_{metric}", "nan"))
    promote, test_reason = champion_decision(
        client, model_name, registry["champion_alias"], metric, value
    )
    return staging, promote, f"{reason}; {test_reason}"
