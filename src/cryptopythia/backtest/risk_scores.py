"""The walk-forward's risk scores: the CRPS (``scoringrules.crps_quantile`` on the
quantiles at a fixed grid of levels), pinball losses, Kupiec / Christoffersen tests of the
lower quantiles as Values-at-Risk, the volatility terciles coverage is split by, and
Diebold-Mariano tests of the 80% interval score against each random-walk anchor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..model.quantiles import quantile_column
from ..model.statistics import (
    christoffersen_p_value,
    diebold_mariano_losses,
    interval_score,
    kupiec_p_value,
    one_sided_p_values,
)

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


def scored_levels(scoring: dict[str, Any]) -> list[float]:
    """Every quantile level the scores read (CRPS grid, pinball and VaR levels), sorted:
    what the walk-forwards ask each model for (``scoring``: backtest.scoring)."""
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


def quantile_scores(group: pd.DataFrame, scoring: dict[str, Any]) -> dict[str, float]:
    """CRPS (scoringrules.crps_quantile on the quantiles at ``crps_levels``), pinball loss
    (scoringrules.quantile_score) at each ``pinball_levels`` and, per ``var_levels``, the
    share of actuals below that quantile with Kupiec's and Christoffersen's p-values (the
    rows in time order per step); none for a model without quantiles."""
    # imported here, not with the module: scoringrules compiles its numba kernels when
    # imported (~3 s), which every `kedro run` paid since the registry imports this module
    import scoringrules

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


def dm_against_anchors(
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


def anchor_interval_scores(forecasts: pd.DataFrame) -> dict[str, pd.Series]:
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
