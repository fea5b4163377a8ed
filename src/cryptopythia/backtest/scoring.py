"""Scores of a walk-forward, per model overall, per step and per refit: RMSE and MAE and
their ratios to naive, directional accuracy beside the share of up moves, interval
coverage (overall and per volatility tercile), width and Winkler score, Diebold-Mariano
tests against naive (squared errors) and against each random-walk anchor (80% interval
scores), and, for the models carrying quantiles, proper scores: the CRPS
(``scoringrules.crps_quantile`` on the quantiles at a fixed grid of levels), pinball
losses, and Kupiec / Christoffersen tests of the lower quantiles as Values-at-Risk."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import scoringrules
from matplotlib.figure import Figure  # at run time: Kedro reads node type hints

from ..model.quantiles import quantile_column
from ..model.statistics import (
    christoffersen_p_value,
    diebold_mariano,
    diebold_mariano_losses,
    directional_scores,
    interval_score,
    kupiec_p_value,
    one_sided_p_values,
)

logger = logging.getLogger(__name__)

SCOPES = {"overall": [], "step": ["step"], "refit": ["refit"]}
# backtest.scoring when a caller gives none (conf/base/parameters_backtest.yml's).
DEFAULT_SCORING = {
    "crps_levels": 20,
    "pinball_levels": [0.01, 0.05, 0.95, 0.99],
    "var_levels": [0.01, 0.05],
}
# RiskMetrics decay of the volatility whose terciles split the coverage.
TERCILE_DECAY = 0.94
# The 80% interval score every model is compared on against the anchors (DM).
ANCHOR_COVERAGE = "80"


def crps_levels(scoring: dict[str, Any]) -> list[float]:
    """The CRPS's quantile levels: the midpoints (k - 0.5) / K of K equal slices of (0, 1),
    so that scoringrules.crps_quantile's 2/K * sum of pinball losses is the midpoint rule
    of the CRPS's integral of pinball losses over the levels."""
    count = int(scoring["crps_levels"])
    return [round((k + 0.5) / count, 10) for k in range(count)]


def scored_levels(scoring: dict[str, Any] | None) -> list[float]:
    """Every quantile level the scores read (CRPS grid, pinball and VaR levels), sorted:
    what the walk-forwards ask each model for."""
    scoring = scoring or DEFAULT_SCORING
    levels = {*crps_levels(scoring), *scoring["pinball_levels"], *scoring["var_levels"]}
    return sorted(float(level) for level in levels)


def level_label(level: float) -> str:
    """A level in metric names, in percent: 0.01 -> "1", 0.025 -> "2.5"."""
    return f"{round(level * 100, 6):g}"


def anchors_of(forecasts: pd.DataFrame) -> list[str]:
    """The random-walk anchors (``naive_<volatility>``) whose 80% intervals a table holds."""
    column = f"lower_{ANCHOR_COVERAGE}"
    if column not in forecasts:
        return []
    models = forecasts.loc[forecasts[column].notna(), "model"].unique()
    return [str(m) for m in models if str(m).startswith("naive_")]


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


def volatility_terciles(forecasts: pd.DataFrame) -> pd.Series:
    """Per origin, the tercile (1 calm, 2, 3 volatile) of the market's volatility known at
    it: a RiskMetrics EWMA (decay 0.94) of the log changes between consecutive origins'
    last closes, the one from the latest origin included (known at the origin). The same
    split for every model."""
    last = forecasts.groupby("origin")["last_close"].first().sort_index()
    returns = np.log(last).diff()
    variance = (returns**2).ewm(alpha=1 - TERCILE_DECAY, adjust=False).mean()
    if variance.notna().sum() < 3:
        return pd.Series(dtype="float64")
    return pd.qcut(variance.rank(method="first"), 3, labels=[1, 2, 3]).astype("float64")


def _quantile_scores(group: pd.DataFrame, scoring: dict[str, Any]) -> dict[str, float]:
    """CRPS (scoringrules.crps_quantile on the quantiles at ``crps_levels``), pinball loss
    (scoringrules.quantile_score) at each ``pinball_levels`` and, per ``var_levels``, the
    share of actuals below that quantile with Kupiec's and Christoffersen's p-values (the
    rows in time order per step); none for a model without quantiles."""
    columns = [quantile_column(level) for level in crps_levels(scoring)]
    if not set(columns) <= set(group) or group[columns].isna().all().all():
        return {}
    group = group[group[columns].notna().all(axis=1)].sort_values(["step", "origin"])
    actual = group["actual"].to_numpy(dtype="float64")
    scores = {
        "crps": float(
            np.mean(
                scoringrules.crps_quantile(
                    actual,
                    group[columns].to_numpy(dtype="float64"),
                    np.asarray(crps_levels(scoring)),
                    backend="numpy",
                )
            )
        )
    }
    for level in scoring["pinball_levels"]:
        forecast = group[quantile_column(level)].to_numpy(dtype="float64")
        loss = scoringrules.quantile_score(actual, forecast, float(level), backend="numpy")
        scores[f"pinball_{level_label(level)}"] = float(np.mean(loss))
    for level in scoring["var_levels"]:
        below = actual < group[quantile_column(level)].to_numpy(dtype="float64")
        label = level_label(level)
        scores[f"var_hits_{label}"] = float(np.mean(below))
        scores[f"kupiec_p_{label}"] = kupiec_p_value(below, float(level))
        scores[f"christoffersen_p_{label}"] = christoffersen_p_value(below)
    return scores


def _dm_against_anchors(
    group: pd.DataFrame, anchors: dict[str, pd.Series], step: int
) -> dict[str, float]:
    """Diebold-Mariano of the model's 80% interval scores against each anchor's on the
    same rows: one-sided p-values that it is better / worse than the anchor."""
    column = f"lower_{ANCHOR_COVERAGE}"
    if column not in group or group[column].isna().all():
        return {}
    actual = group["actual"].to_numpy()
    own = interval_score(
        actual,
        group[column].to_numpy(),
        group[f"upper_{ANCHOR_COVERAGE}"].to_numpy(),
        int(ANCHOR_COVERAGE) / 100,
    )
    keys = list(zip(group["origin"], group["step"]))
    scores = {}
    for name, anchor in anchors.items():
        if group["model"].iloc[0] == name:
            continue
        reference = anchor.reindex(keys).to_numpy()
        known = np.isfinite(reference) & np.isfinite(own)
        if known.sum() < 3 or not np.any(own[known] != reference[known]):
            better, worse = 1.0, 1.0
        else:
            statistic, _ = diebold_mariano_losses(own[known], reference[known], step)
            better, worse = one_sided_p_values(statistic, int(known.sum()))
        prefix = f"dm_interval_{ANCHOR_COVERAGE}_vs_{name}"
        scores[f"{prefix}_p_better"], scores[f"{prefix}_p_worse"] = better, worse
    return scores


def _anchor_interval_scores(forecasts: pd.DataFrame) -> dict[str, pd.Series]:
    """Per anchor, its 80% interval score per (origin, step)."""
    result = {}
    for name in anchors_of(forecasts):
        rows = forecasts[forecasts["model"] == name]
        values = interval_score(
            rows["actual"].to_numpy(),
            rows[f"lower_{ANCHOR_COVERAGE}"].to_numpy(),
            rows[f"upper_{ANCHOR_COVERAGE}"].to_numpy(),
            int(ANCHOR_COVERAGE) / 100,
        )
        result[name] = pd.Series(
            values, index=pd.MultiIndex.from_arrays([rows["origin"], rows["step"]])
        )
    return result


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
    network: pd.DataFrame, baselines: pd.DataFrame, scoring: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The backtest table: one row per model and scope (overall, each step, each refit);
    ``scoring``: backtest.scoring (the quantile levels of the proper scores)."""
    scoring = scoring or DEFAULT_SCORING
    forecasts = pd.concat([network, baselines], ignore_index=True)
    coverages = _coverages(forecasts)
    naive = forecasts[forecasts["model"] == "naive"].set_index(["origin", "step"])["forecast"]
    terciles = volatility_terciles(forecasts)
    anchors = _anchor_interval_scores(forecasts)
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
                    **_quantile_scores(group, scoring),
                    **_dm_against_naive(group, naive, step),
                    **_dm_against_anchors(group, anchors, step),
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
