"""Scores of realised forecasts per model version and step, over the last N origins and
since deployment: coverage with a binomial test, Kupiec's and Christoffersen's tests of
the lower bounds as VaR levels, the interval score beside the EWMA random walk's on the
same origins, and the RMSE beside naive persistence's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..model.statistics import christoffersen_p_value, interval_score, kupiec_p_value
from .realised import coverages_of

GROUP = ["model_name", "model_version", "step"]


def window_scores(rows: pd.DataFrame) -> dict[str, float]:
    """The scores of one model version's forecasts at one step (rows sorted by origin)."""
    actual, forecast = rows["actual"].to_numpy(float), rows["forecast_close"].to_numpy(float)
    naive = rows["last_close"].to_numpy(float)
    rmse, naive_rmse = (
        np.sqrt(np.mean((actual - forecast) ** 2)),
        np.sqrt(np.mean((actual - naive) ** 2)),
    )
    scores: dict[str, float] = {
        "n": len(rows),
        "first_origin": pd.Timestamp(rows["origin"].iloc[0]).isoformat(),
        "last_origin": pd.Timestamp(rows["origin"].iloc[-1]).isoformat(),
        "rmse": float(rmse),
        "naive_rmse": float(naive_rmse),
        "rmse_ratio": float(rmse / naive_rmse) if naive_rmse > 0 else float("nan"),
    }
    for coverage in coverages_of(rows):
        level = int(coverage) / 100
        lower, upper = (
            rows[f"lower_{coverage}"].to_numpy(float),
            rows[f"upper_{coverage}"].to_numpy(float),
        )
        inside = (actual >= lower) & (actual <= upper)
        below = actual < lower  # the lower bound as a VaR at (1 - coverage) / 2
        model = interval_score(actual, lower, upper, level).mean()
        walk = interval_score(
            actual,
            rows[f"rw_lower_{coverage}"].to_numpy(float),
            rows[f"rw_upper_{coverage}"].to_numpy(float),
            level,
        ).mean()
        scores |= {
            f"coverage_{coverage}": float(inside.mean()),
            f"coverage_{coverage}_p": float(
                stats.binomtest(int(inside.sum()), len(rows), level).pvalue
            ),
            f"kupiec_{coverage}_p": kupiec_p_value(below, (1 - level) / 2),
            f"christoffersen_{coverage}_p": christoffersen_p_value(below),
            f"interval_score_{coverage}": float(model),
            f"rw_interval_score_{coverage}": float(walk),
            f"interval_score_ratio_{coverage}": float(model / walk) if walk > 0 else float("nan"),
        }
    return scores


def score_windows(realised: pd.DataFrame, windows: list[int]) -> pd.DataFrame:
    """One row per model version, step and window ("last_30", "last_90", "all": since the
    version's first forecast)."""
    records: list[dict[str, Any]] = []
    for (name, version, step), rows in realised.sort_values("origin").groupby(GROUP, sort=True):
        spans = {f"last_{n}": rows.iloc[-int(n) :] for n in windows} | {"all": rows}
        for window, part in spans.items():
            records.append(
                {
                    "model_name": name,
                    "model_version": str(version),
                    "step": int(step),
                    "window": window,
                }
                | window_scores(part)
            )
    return pd.DataFrame.from_records(records)


def rolling_scores(realised: pd.DataFrame, step: int, window: int) -> pd.DataFrame:
    """Per model version and origin, the step-``step`` scores of the last ``window`` origins
    up to it (the series drawn in the report and logged to MLflow), with ``target_time``,
    the target candle of that origin's forecast, and ``n``, the origins scored (fewer than
    ``window`` at the version's first origins)."""
    records: list[dict[str, Any]] = []
    rows_at_step = realised[realised["step"] == step].sort_values("origin")
    for (name, version), rows in rows_at_step.groupby(["model_name", "model_version"]):
        for end in range(1, len(rows) + 1):
            part = rows.iloc[max(0, end - window) : end]
            records.append(
                {
                    "model_name": name,
                    "model_version": str(version),
                    "origin": part["origin"].iloc[-1],
                    "target_time": part["target_time"].iloc[-1],
                }
                | window_scores(part)
            )
    return pd.DataFrame.from_records(records)
