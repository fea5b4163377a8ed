"""Scores of benchmarks/risk.py: per volatility model and period, the naive random walk's
conformal intervals and quantiles scored against the actual closes (see risk.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scoringrules as sr

from cryptopythia.model.statistics import (
    christoffersen_p_value,
    diebold_mariano,
    interval_score,
    kupiec_p_value,
)

# Central coverages whose conformal quantiles make the predictive quantiles: levels
# (1 - c) / 2 and (1 + c) / 2, plus the median (the naive move, 0).
COVERAGES = (0.5, 0.8, 0.9, 0.95, 0.98)
LEVELS = np.array(
    sorted({0.5, *[(1 - c) / 2 for c in COVERAGES], *[(1 + c) / 2 for c in COVERAGES]})
)
PINBALL_LEVELS = (0.01, 0.05, 0.95, 0.99)
VAR_LEVEL = 0.05  # the lower bound of the 90% interval


def quantile_moves(radius: dict[float, np.ndarray]) -> np.ndarray:
    """(origins, steps, levels): the predictive quantiles of the log move at ``LEVELS``, from
    the conformal log radius of each central coverage (symmetric about the naive 0)."""
    columns = {0.5: np.zeros_like(radius[COVERAGES[0]])}
    for coverage in COVERAGES:
        columns[round((1 - coverage) / 2, 6)] = -radius[coverage]
        columns[round((1 + coverage) / 2, 6)] = radius[coverage]
    return np.stack([columns[round(level, 6)] for level in LEVELS], axis=-1)


def period_scores(
    actual: np.ndarray, last: np.ndarray, radius: dict[float, np.ndarray]
) -> dict[str, Any]:
    """Scores over a period's origins (rows) and steps (columns): coverage, the 80% interval
    score (USD), quantile CRPS and pinball losses of the log move, and the 5% VaR tests."""
    moves = np.log(actual / last[:, None])
    scores: dict[str, Any] = {"origins": len(last)}
    for coverage in (0.8, 0.95):
        hit = np.abs(moves) <= radius[coverage]
        scores[f"coverage_{round(coverage * 100)}"] = float(hit.mean())
        scores[f"coverage_{round(coverage * 100)}_by_step"] = hit.mean(axis=0).tolist()
    lower, upper = last[:, None] * np.exp(-radius[0.8]), last[:, None] * np.exp(radius[0.8])
    scores["interval_score_80_rows"] = interval_score(actual, lower, upper, 0.8)
    quantiles = quantile_moves(radius)
    scores["crps"] = float(np.mean(sr.crps_quantile(moves, quantiles, LEVELS, backend="numpy")))
    for level in PINBALL_LEVELS:
        column = int(np.flatnonzero(np.isclose(LEVELS, level))[0])
        loss = sr.quantile_score(moves, quantiles[..., column], level, backend="numpy")
        scores[f"pinball_{round(level * 100)}"] = float(np.mean(loss))
    exceed = moves < -radius[0.9]
    scores["var5_rate_by_step"] = exceed.mean(axis=0).tolist()
    scores["kupiec_p_by_step"] = [kupiec_p_value(e, VAR_LEVEL) for e in exceed.T]
    scores["christoffersen_p_by_step"] = [christoffersen_p_value(e) for e in exceed.T]
    return scores


def against_ewma(scores: dict[str, Any], ewma: dict[str, Any]) -> dict[str, Any]:
    """The 80% interval score as a ratio to the EWMA walk's on the same origins, overall and
    per step, with Diebold-Mariano tests (interval-score differential; negative: better);
    CRPS and pinball ratios; without the per-row scores."""
    rows, reference = scores["interval_score_80_rows"], ewma["interval_score_80_rows"]
    steps = rows.shape[1]
    result = {key: value for key, value in scores.items() if key != "interval_score_80_rows"}
    result["interval_score_80"] = float(rows.mean())
    result["ratio_80"] = float(rows.mean() / reference.mean())
    result["ratio_80_by_step"] = (rows.mean(axis=0) / reference.mean(axis=0)).tolist()
    tests = [
        diebold_mariano(np.sqrt(rows[:, s]), np.sqrt(reference[:, s]), s + 1) for s in range(steps)
    ]
    result["dm_by_step"] = [{"statistic": t, "p_value": p} for t, p in tests]
    t, p = diebold_mariano(np.sqrt(rows.mean(1)), np.sqrt(reference.mean(1)), steps)
    result["dm_overall"] = {"statistic": t, "p_value": p}
    for key in ("crps", *[f"pinball_{round(level * 100)}" for level in PINBALL_LEVELS]):
        result[f"{key}_ratio"] = scores[key] / ewma[key]
    return result


# What the selection period keeps (it only chooses): the scored period keeps everything.
SELECTION_KEYS = (
    "origins",
    "coverage_80",
    "coverage_95",
    "interval_score_80",
    "ratio_80",
    "crps_ratio",
)


def headline(scores: dict[str, Any], period: str) -> dict[str, Any]:
    """The selection period's scores cut to what the choice and a reader need."""
    if period != "selection":
        return scores
    return {key: scores[key] for key in SELECTION_KEYS}


def rounded(value: Any) -> Any:
    """Floats to 6 significant digits, recursively (the JSON stays readable)."""
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(f"{float(value):.6g}")
    return value
