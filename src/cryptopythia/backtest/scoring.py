"""Scores of a walk-forward, per model overall, per step and per refit: RMSE and MAE and
their ratios to naive, directional accuracy beside the share of up moves, interval
coverage (overall and per volatility tercile), width and Winkler score, Diebold-Mariano
tests against naive (squared errors), and the risk scores of ``risk_scores`` (CRPS,
pinball, VaR tests, DM against each random-walk anchor)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # at run time: Kedro reads node type hints

from ..model.statistics import (
    diebold_mariano,
    directional_scores,
    interval_score,
    one_sided_p_values,
)
from .risk_scores import (
    ANCHOR_COVERAGE,
    anchor_interval_scores,
    dm_against_anchors,
    quantile_scores,
    volatility_terciles,
)

logger = logging.getLogger(__name__)

SCOPES = {"overall": [], "step": ["step"], "refit": ["refit"]}


def _coverages(frame: pd.DataFrame) -> list[str]:
    """The interval coverages ("80", "95") a forecast table carries bounds for."""
    return [c.removeprefix("lower_") for c in frame.columns if c.startswith("lower_")]


def _point_scores(group: pd.DataFrame) -> dict[str, float]:
    actual, forecast, last = (group[c].to_numpy() for c in ("actual", "forecast", "last_close"))
    error = actual - forecast
    return {
        "n": len(group),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "mape": float(np.mean(np.abs(error / actual))),
        **directional_scores(actual, forecast, last),
        "up_share": float(np.mean(actual > last)),
        **(
            {"shrinkage_weight": float(group["shrinkage_weight"].mean())}
            if "shrinkage_weight" in group and group["shrinkage_weight"].notna().any()
            else {}
        ),
    }


def _interval_scores(
    group: pd.DataFrame, coverages: list[str], terciles: pd.Series | None = None
) -> dict[str, float]:
    """Coverage, relative width and interval score per coverage; with ``terciles`` (origin
    -> 1 calm .. 3 volatile), the coverage within each volatility tercile too."""
    scores = {}
    actual, forecast = group["actual"].to_numpy(), group["forecast"].to_numpy()
    tercile = None if terciles is None else group["origin"].map(terciles).to_numpy()
    for coverage in coverages:
        lower, upper = group[f"lower_{coverage}"].to_numpy(), group[f"upper_{coverage}"].to_numpy()
        if np.isnan(lower).all():
            continue  # this model carries no interval
        inside = (actual >= lower) & (actual <= upper)
        scores[f"coverage_{coverage}"] = float(np.mean(inside))
        scores[f"width_{coverage}"] = float(np.mean((upper - lower) / forecast))
        scores[f"interval_score_{coverage}"] = float(
            np.mean(interval_score(actual, lower, upper, int(coverage) / 100))
        )
        for k in (1, 2, 3) if tercile is not None else ():
            chosen = tercile == k
            if chosen.any():
                scores[f"coverage_{coverage}_tercile_{k}"] = float(np.mean(inside[chosen]))
    return scores


def _dm_against_naive(group: pd.DataFrame, naive: pd.Series, step: int) -> dict[str, float]:
    """Diebold-Mariano (HLN) of a model's squared errors against naive's on the same rows;
    overlapping h-step errors count autocovariances up to lag h - 1."""
    keys = list(zip(group["origin"], group["step"]))
    errors_model = group["actual"].to_numpy() - group["forecast"].to_numpy()
    errors_naive = group["actual"].to_numpy() - naive.loc[keys].to_numpy()
    if len(group) < 3 or not np.any(errors_model != errors_naive):
        return {"dm_statistic": 0.0, "dm_p_better": 1.0, "dm_p_worse": 1.0}
    statistic, _ = diebold_mariano(errors_model, errors_naive, step)
    better, worse = one_sided_p_values(statistic, len(group))
    return {"dm_statistic": statistic, "dm_p_better": better, "dm_p_worse": worse}


def score_backtest(
    network: pd.DataFrame, baselines: pd.DataFrame, scoring: dict[str, Any]
) -> pd.DataFrame:
    """The backtest table: one row per model and scope (overall, each step, each refit);
    ``scoring``: backtest.scoring (the quantile levels of the proper scores)."""
    forecasts = pd.concat([network, baselines], ignore_index=True)
    coverages = _coverages(forecasts)
    naive = forecasts[forecasts["model"] == "naive"].set_index(["origin", "step"])["forecast"]
    terciles = volatility_terciles(forecasts)
    anchors = anchor_interval_scores(forecasts)
    rows = []
    for scope, keys in SCOPES.items():
        for key, group in forecasts.groupby(["model", *keys], sort=False):
            model, *values = key if isinstance(key, tuple) else (key,)
            step = int(values[0]) if scope == "step" else int(group["step"].max())
            rows.append(
                {
                    "model": model,
                    "scope": scope,
                    "key": values[0] if values else "all",
                    **_point_scores(group),
                    **_interval_scores(group, coverages, terciles),
                    **quantile_scores(group, scoring),
                    **_dm_against_naive(group, naive, step),
                    **dm_against_anchors(group, anchors, step),
                }
            )
    scores = pd.DataFrame(rows)
    reference = scores[scores["model"] == "naive"].set_index(["scope", "key"])
    for metric in ("rmse", "mae"):
        scores[f"{metric}_ratio_to_naive"] = [
            r[metric] / reference.loc[(r["scope"], r["key"]), metric] for _, r in scores.iterrows()
        ]
    return scores


def summarise_network(scores: pd.DataFrame, network: str) -> dict[str, Any]:
    """The network's verdict numbers by step and overall, beside each random-walk anchor's
    interval score by step (what the champion gate reads: the best anchor's)."""
    by_step = scores[(scores["model"] == network) & (scores["scope"] == "step")]
    columns = [
        c
        for c in by_step.columns
        if c.startswith(
            (
                "rmse",
                "mae",
                "dm_",
                "coverage_",
                "width_",
                "interval_score_",
                "directional",
                "up_share",
                "crps",
                "pinball_",
                "var_hits_",
                "kupiec_p_",
                "christoffersen_p_",
            )
        )
    ]

    def interval_scores_of(model: str) -> dict[int, dict[str, float]]:
        rows = scores[(scores["model"] == model) & (scores["scope"] == "step")]
        return {
            int(r["key"]): {c: float(r[c]) for c in rows.columns if c.startswith("interval_score_")}
            for _, r in rows.iterrows()
        }

    key = f"interval_score_{ANCHOR_COVERAGE}"
    carried = scores.loc[scores[key].notna(), "model"] if key in scores else pd.Series()
    anchors = [str(m) for m in carried.unique() if str(m).startswith("naive_")]
    summary: dict[str, Any] = {
        "steps": {
            int(r["key"]): {c: float(r[c]) for c in columns if pd.notna(r[c])}
            for _, r in by_step.iterrows()
        },
        "ewma_interval_score": interval_scores_of("naive_ewma"),
        "anchor_interval_score": {anchor: interval_scores_of(anchor) for anchor in anchors},
    }
    overall = scores[(scores["model"] == network) & (scores["scope"] == "overall")].iloc[0]
    summary["overall"] = {c: float(overall[c]) for c in columns if pd.notna(overall[c])}
    for step, values in summary["steps"].items():
        logger.info(
            "Step %d: RMSE ratio %.4f, MAE ratio %.4f, DM p(worse) %.3f, direction %.3f "
            "(up %.3f), coverage 80 %.3f, interval score 80 %.0f (best anchor %.0f).",
            step,
            values["rmse_ratio_to_naive"],
            values["mae_ratio_to_naive"],
            values["dm_p_worse"],
            values.get("directional_accuracy", np.nan),  # NaN: no direction called
            values["up_share"],
            values.get("coverage_80", np.nan),
            values.get("interval_score_80", np.nan),
            best_anchor_score(summary, step)[1],
        )
    return summary


def best_anchor_score(summary: dict[str, Any], step: int) -> tuple[str, float]:
    """The anchor with the lowest 80% interval score at ``step`` and that score (the EWMA
    walk's in a summary from before the anchors were recorded; NaN when there is none)."""
    key = f"interval_score_{ANCHOR_COVERAGE}"
    anchors = summary.get("anchor_interval_score") or {
        "naive_ewma": summary.get("ewma_interval_score", {})
    }
    candidates = [
        (float(by_step[step][key]), name)
        for name, by_step in anchors.items()
        if key in by_step.get(step, {})
    ]
    if not candidates:
        return "", float("nan")
    value, name = min(candidates)
    return name, value


def backtest_metrics(scores: pd.DataFrame, network: str) -> dict[str, Any]:
    """Headline numbers for MLflow: every model's overall scores, the network's per step."""
    metrics: dict[str, Any] = {}
    numeric = [c for c in scores.columns if c not in ("model", "scope", "key", "n")]
    for _, row in scores[scores["scope"] == "overall"].iterrows():
        for name in numeric:
            if pd.notna(row[name]):
                metrics[f"{row['model']}.{name}"] = {"value": float(row[name]), "step": 0}
    for _, row in scores[(scores["scope"] == "step") & (scores["model"] == network)].iterrows():
        for name in numeric:
            if pd.notna(row[name]):
                metrics.setdefault(f"{network}.step.{name}", []).append(
                    {"value": float(row[name]), "step": int(row["key"])}
                )
    return metrics


def plot_backtest(scores: pd.DataFrame, network: str) -> Figure:
    """RMSE ratio to naive by step (every model) and by refit (the network), and the
    interval coverage by step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    by_step = scores[scores["scope"] == "step"]
    for model, group in by_step.groupby("model", sort=False):
        axes[0].plot(
            group["key"].astype(int),
            group["rmse_ratio_to_naive"],
            marker="o",
            lw=2.2 if model == network else 1.0,
            label=model,
        )
    axes[0].axhline(1.0, color="grey", linestyle="--")
    axes[0].set(xlabel="horizon step", ylabel="RMSE / naive RMSE", title="Skill by step")
    axes[0].legend(fontsize=7)
    refits = scores[(scores["scope"] == "refit") & (scores["model"] == network)]
    axes[1].plot(refits["key"].astype(int), refits["rmse_ratio_to_naive"], marker="o")
    axes[1].axhline(1.0, color="grey", linestyle="--")
    axes[1].set(xlabel="refit", ylabel="RMSE / naive RMSE", title=f"{network} by refit")
    coverage_columns = [c for c in by_step.columns if c.startswith("coverage_") and c[9:].isdigit()]
    for column in coverage_columns:  # coverage_80, not coverage_80_tercile_1
        for model, group in by_step[by_step[column].notna()].groupby("model", sort=False):
            axes[2].plot(
                group["key"].astype(int),
                group[column],
                marker="o",
                label=f"{model} {column.removeprefix('coverage_')}%",
            )
        axes[2].axhline(int(column.removeprefix("coverage_")) / 100, color="grey", linestyle="--")
    axes[2].set(xlabel="horizon step", ylabel="share inside", title="Interval coverage by step")
    axes[2].legend(fontsize=7)
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
