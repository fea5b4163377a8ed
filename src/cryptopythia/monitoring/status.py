"""The status of a model version from its recent scores: ``alarm`` when the intervals are
clearly miscalibrated or clearly worse than the EWMA random walk, ``warn`` on weaker
evidence, ``ok`` otherwise (and while too few forecasts have been scored to tell)."""

from __future__ import annotations

from typing import Any

import pandas as pd

STATUSES = ("ok", "warn", "alarm")


def breaches(scores: pd.Series, limits: dict[str, float]) -> list[str]:
    """Which limits of one level (``warn`` or ``alarm``) the scores break, in words."""
    found = []
    coverages = [
        c.removeprefix("coverage_")
        for c in scores.index
        if c.count("_") == 1 and c.startswith("coverage_")
    ]
    for coverage in coverages:
        p_value = scores[f"coverage_{coverage}_p"]
        if p_value < limits["coverage_p_value"]:
            found.append(
                f"{coverage}% coverage {scores[f'coverage_{coverage}']:.1%} (binomial p={p_value:.3g} "
                f"< {limits['coverage_p_value']})"
            )
        ratio = scores[f"interval_score_ratio_{coverage}"]
        if ratio > limits["interval_score_ratio"]:
            found.append(
                f"{coverage}% interval score {ratio:.2f}x the EWMA random walk's "
                f"(> {limits['interval_score_ratio']})"
            )
    return found


def judge(scores: pd.Series, settings: dict[str, Any]) -> tuple[str, list[str]]:
    """The status of one window's scores and why (``monitor.status`` settings)."""
    if scores["n"] < int(settings["min_origins"]):
        return "ok", [
            f"only {int(scores['n'])} origins scored (min_origins={settings['min_origins']})"
        ]
    for level in ("alarm", "warn"):
        reasons = breaches(scores, settings[level])
        if reasons:
            return level, reasons
    return "ok", []


def status_over_time(rolling: pd.DataFrame, settings: dict[str, Any]) -> pd.Series:
    """The status each version had at each origin of its rolling scores."""
    return rolling.apply(lambda scores: judge(scores, settings)[0], axis=1)


def version_statuses(windows: pd.DataFrame, monitor: dict[str, Any]) -> pd.DataFrame:
    """Per model version: its status, the reasons, and how many origins it was judged on
    (``monitor.status``: the step and window judged, the minimum origins, the limits)."""
    settings = monitor["status"]
    judged = windows[
        (windows["step"] == int(settings["step"]))
        & (windows["window"] == f"last_{settings['window']}")
    ]
    records = []
    for _, scores in judged.iterrows():
        status, reasons = judge(scores, settings)
        records.append(
            {
                "model_name": scores["model_name"],
                "model_version": scores["model_version"],
                "status": status,
                "reasons": "; ".join(reasons),
                "origins": int(scores["n"]),
                "last_origin": scores["last_origin"],
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=["model_name", "model_version", "status", "reasons", "origins", "last_origin"],
    )
