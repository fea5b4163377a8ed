"""Skill against naive persistence, side by side for every pair."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)


def _pair_columns(namespace: str) -> dict[str, str]:
    symbol, interval = namespace.rsplit("_", 1)
    return {"pair": namespace, "symbol": symbol.upper(), "interval": interval}


def summarise_training(**reports: dict[str, Any]) -> pd.DataFrame:
    """One row per pair (keyword = namespace) from its modelling report: the test split's
    errors and their ratios to naive persistence, best skill first."""
    rows = []
    for namespace, report in reports.items():
        test = report["test"]
        rows.append(
            {
                **_pair_columns(namespace),
                "first_target": report["test_period"]["first_target"],
                "last_target": report["test_period"]["last_target"],
                "rmse": test["rmse"],
                "naive_rmse": test["naive_rmse"],
                "rmse_ratio_to_naive": test["rmse"] / test["naive_rmse"],
                "mae_ratio_to_naive": test["mae"] / test["naive_mae"],
                "mase": test.get("mase"),
                "r2": test["r2"],
                "directional_accuracy": test.get("directional_accuracy"),
                "epochs_run": report["training"]["epochs_run"],
            }
        )
    table = pd.DataFrame(rows).sort_values("rmse_ratio_to_naive", ignore_index=True)
    beating = int((table["rmse_ratio_to_naive"] < 1.0).sum())
    logger.info("Test RMSE below naive persistence's for %d of %d pairs.", beating, len(table))
    return table


def summarise_backtests(**summaries: dict[str, Any]) -> pd.DataFrame:
    """One row per pair (keyword = namespace) from its walk-forward summary: the overall
    scores and the worst step's RMSE ratio to naive, best skill first."""
    rows = []
    for namespace, summary in summaries.items():
        overall = summary["overall"]
        steps = summary["steps"]
        rows.append(
            {
                **_pair_columns(namespace),
                "rmse_ratio_to_naive": overall["rmse_ratio_to_naive"],
                "worst_step_rmse_ratio": max(s["rmse_ratio_to_naive"] for s in steps.values()),
                "mae_ratio_to_naive": overall["mae_ratio_to_naive"],
                "dm_p_better": overall.get("dm_p_better"),
                "coverage_80": overall.get("coverage_80"),
                "interval_score_80": overall.get("interval_score_80"),
            }
        )
    return pd.DataFrame(rows).sort_values("rmse_ratio_to_naive", ignore_index=True)


def pair_metrics(table: pd.DataFrame) -> dict[str, Any]:
    """The table's ratios as MLflow metrics named ``<pair>.<column>``."""
    columns = [c for c in table.columns if "ratio" in c or c.startswith(("coverage", "dm_"))]
    return {
        f"{row['pair']}.{column}": {"value": float(row[column]), "step": 0}
        for _, row in table.iterrows()
        for column in columns
        if pd.notna(row[column])
    }
