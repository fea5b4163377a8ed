"""Scores of a walk-forward: per model overall, per step and per fold, interval coverage,
the Diebold-Mariano test against naive persistence, and their plot."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..model.statistics import diebold_mariano, forecast_scores

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def _mase_scale(table: pd.DataFrame, fold_table: pd.DataFrame) -> pd.Series:
    """Per fold: the in-sample MAE of the one-step naive forecast on its training rows."""
    closes = table["close_usd"].to_numpy()
    return pd.Series(
        {
            int(r.fold): float(np.mean(np.abs(np.diff(closes[r.train_start : r.origin]))))
            for r in fold_table.itertuples()
        }
    )


def score_backtest(
    network: pd.DataFrame, baselines: pd.DataFrame, table: pd.DataFrame, fold_table: pd.DataFrame
) -> pd.DataFrame:
    """The backtest table: each model's RMSE, MAE, MAPE, MASE, directional accuracy (and
    interval coverage) overall, per horizon step and per fold."""
    forecasts = pd.concat([network, baselines], ignore_index=True)
    scales = _mase_scale(table, fold_table)
    rows = []
    groupings = {"overall": [], "step": ["step"], "fold": ["fold"]}
    for scope, keys in groupings.items():
        for key, group in forecasts.groupby(["model", *keys], sort=False):
            model, *values = key if isinstance(key, tuple) else (key,)
            scores = forecast_scores(
                group["actual"].to_numpy(),
                group["forecast"].to_numpy(),
                group["last_close"].to_numpy(),
                float(scales.loc[group["fold"].unique()].mean()),
            )
            row = {
                "model": model,
                "scope": scope,
                "key": values[0] if values else "all",
                "n": len(group),
                **{k: scores[k] for k in ("rmse", "mae", "mape", "mase", "directional_accuracy")},
            }
            for lower in [c for c in group.columns if c.startswith("lower_")]:
                if group[lower].isna().all():
                    continue  # baselines carry no interval
                upper = lower.replace("lower_", "upper_")
                inside = (group["actual"] >= group[lower]) & (group["actual"] <= group[upper])
                row[f"coverage_{lower.removeprefix('lower_')}"] = float(inside.mean())
            rows.append(row)
    scores = pd.DataFrame(rows)
    naive = scores[scores["model"] == "naive"].set_index(["scope", "key"])["rmse"]
    scores["rmse_ratio_to_naive"] = [
        r.rmse / naive.loc[(r.scope, r.key)] for r in scores.itertuples()
    ]
    return scores


def compare_with_naive(network: pd.DataFrame, baselines: pd.DataFrame) -> dict[str, Any]:
    """Diebold–Mariano tests of the network against naive, overall and per step."""
    naive = baselines[baselines["model"] == "naive"].set_index(["fold", "step"])["forecast"]
    paired = network.set_index(["fold", "step"]).join(naive.rename("naive"))
    paired = paired.sort_index()
    errors_model = paired["actual"] - paired["forecast"]
    errors_naive = paired["actual"] - paired["naive"]
    horizon = int(paired.index.get_level_values("step").max())
    statistic, p_value = diebold_mariano(errors_model, errors_naive, horizon)
    result: dict[str, Any] = {
        "overall": {"statistic": statistic, "p_value": p_value, "n": len(paired)}
    }
    for step, group in paired.groupby(level="step"):
        if len(group) >= 2:
            s, p = diebold_mariano(
                group["actual"] - group["forecast"], group["actual"] - group["naive"], 1
            )
            result[f"step_{step}"] = {"statistic": s, "p_value": p, "n": len(group)}
    logger.info(
        "Diebold–Mariano, network vs naive over %d forecasts: statistic %.3f, p %.3f "
        "(negative: the network's squared errors are smaller).",
        len(paired),
        statistic,
        p_value,
    )
    return result


def backtest_metrics(
    scores: pd.DataFrame, comparison: dict[str, Any], network: str
) -> dict[str, Any]:
    """Headline numbers for MLflow: overall metrics per model, coverage, DM test."""
    overall = scores[scores["scope"] == "overall"]
    metrics: dict[str, Any] = {}
    for row in overall.itertuples():
        for name in ("rmse", "mae", "mape", "mase", "directional_accuracy", "rmse_ratio_to_naive"):
            metrics[f"{row.model}.{name}"] = {"value": float(getattr(row, name)), "step": 0}
    for column in [c for c in overall.columns if c.startswith("coverage_")]:
        value = overall.loc[overall["model"] == network, column].iloc[0]
        metrics[f"{network}.{column}"] = {"value": float(value), "step": 0}
    metrics["dm_statistic"] = {"value": comparison["overall"]["statistic"], "step": 0}
    metrics["dm_p_value"] = {"value": comparison["overall"]["p_value"], "step": 0}
    return metrics


def plot_backtest(scores: pd.DataFrame, network: str) -> Figure:
    """RMSE by fold and by horizon step, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for axis, scope, label in ((axes[0], "fold", "fold"), (axes[1], "step", "horizon step")):
        part = scores[scores["scope"] == scope]
        for model, group in part.groupby("model", sort=False):
            width = 2.2 if model == network else 1.0
            axis.plot(group["key"].astype(int), group["rmse"], marker="o", lw=width, label=model)
        axis.set_xlabel(label)
        axis.set_ylabel("RMSE (USD)")
        axis.set_title(f"Walk-forward RMSE by {label}")
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    return figure
