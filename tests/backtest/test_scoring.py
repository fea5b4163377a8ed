"""The backtest's proper scores and the gate against the best anchor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoringrules
from scipy import stats

from cryptopythia.backtest.risk_scores import crps_levels, scored_levels
from cryptopythia.backtest.scoring import plot_backtest, score_backtest, summarise_network
from cryptopythia.backtest.volatility import bounds, random_walk_quantiles
from cryptopythia.model.quantiles import quantile_column
from cryptopythia.model.statistics import interval_score
from cryptopythia.registry.promotion import backtest_verdict

SCORING = {"crps_levels": 4, "pinball_levels": [0.125, 0.9], "var_levels": [0.125]}


def walk(model: str, n_origins: int, horizon: int, sigma: float, seed: int) -> pd.DataFrame:
    """Random-walk forecasts of a lognormal walk with normal quantiles of log scale
    ``sigma`` (the actuals shared by every model: seed 0)."""
    rng = np.random.default_rng(0)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n_origins + horizon + 1)))
    rows = []
    for origin in range(1, n_origins + 1):
        last = closes[origin - 1]
        steps = np.arange(1, horizon + 1)
        log_sigmas = sigma * np.sqrt(steps)
        frame = pd.DataFrame(
            {
                "refit": 0,
                "model": model,
                "origin": origin,
                "step": steps,
                "last_close": last,
                "actual": closes[origin - 1 + steps],
                "forecast": last,
            }
        )
        lower, upper = bounds(last, log_sigmas, 0.8)
        frame["lower_80"], frame["upper_80"] = lower, upper
        levels = scored_levels(SCORING)
        for level, values in zip(levels, random_walk_quantiles(last, log_sigmas, levels)):
            frame[quantile_column(level)] = values
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_crps_and_pinball_are_scoringrules_on_a_tiny_case():
    network = walk("net", 3, 1, 0.02, 1)
    naive = network.assign(model="naive").drop(
        columns=[c for c in network if c.startswith(("lower_", "upper_", "quantile_"))]
    )
    table = score_backtest(network, naive, SCORING)
    row = table[(table["model"] == "net") & (table["scope"] == "overall")].iloc[0]
    levels = crps_levels(SCORING)
    assert levels == [0.125, 0.375, 0.625, 0.875]
    quantiles = network[[quantile_column(level) for level in levels]].to_numpy()
    actual = network["actual"].to_numpy()
    expected = scoringrules.crps_quantile(actual, quantiles, np.array(levels), backend="numpy")
    assert row["crps"] == pytest.approx(float(np.mean(expected)), rel=1e-12)
    # by hand: 2/K * sum of pinball losses
    by_hand = [
        2 / 4 * sum(max(t * (y - q), (t - 1) * (y - q)) for t, q in zip(levels, qs))
        for y, qs in zip(actual, quantiles)
    ]
    assert row["crps"] == pytest.approx(np.mean(by_hand), rel=1e-12)
    q90 = network["quantile_0.9"].to_numpy()
    pinball = np.mean(np.maximum(0.9 * (actual - q90), -0.1 * (actual - q90)))
    assert row["pinball_90"] == pytest.approx(pinball, rel=1e-12)
    assert row["var_hits_12.5"] == np.mean(actual < network["quantile_0.125"].to_numpy())
    assert 0 <= row["kupiec_p_12.5"] <= 1 and 0 <= row["christoffersen_p_12.5"] <= 1
    assert "crps" not in table.loc[table["model"] == "naive"].dropna(axis=1).columns


def test_anchors_terciles_and_dm_against_each_anchor():
    network = walk("net", 120, 2, 0.02, 1)
    baselines = pd.concat(
        [
            network.assign(model="naive").drop(columns=["lower_80", "upper_80"]),
            walk("naive_ewma", 120, 2, 0.04, 2),
            walk("naive_garch", 120, 2, 0.01, 3),
        ],
        ignore_index=True,
    )
    table = score_backtest(network, baselines, SCORING)
    row = table[(table["model"] == "net") & (table["scope"] == "step") & (table["key"] == 1)]
    row = row.iloc[0]
    for anchor in ("naive_ewma", "naive_garch"):
        assert 0 <= row[f"dm_interval_80_vs_{anchor}_p_worse"] <= 1
    assert {f"coverage_80_tercile_{k}" for k in (1, 2, 3)} <= set(row.dropna().index)
    # the true scale (0.02) beats both a too wide and a too narrow walk
    assert row["dm_interval_80_vs_naive_ewma_p_better"] < 0.05
    assert row["dm_interval_80_vs_naive_garch_p_better"] < 0.05
    assert plot_backtest(table, "net").axes  # the tercile columns are not coverages to plot
    summary = summarise_network(table, "net")
    assert set(summary["anchor_interval_score"]) == {"naive_ewma", "naive_garch"}
    assert summary["steps"][1]["crps"] == pytest.approx(row["crps"])


GATE = {
    "max_ratio_to_naive": 1.0,
    "dm_worse_p_value": 0.1,
    "coverage_80": [0.78, 0.82],
    "max_interval_score_ratio": 1.0,
    "var_test_p_value": 0.05,
    "var_test_steps": [1],
}


def summary_of(network_scores: dict[int, float], anchors: dict[str, dict[int, float]]):
    steps = {
        step: {
            "rmse_ratio_to_naive": 0.99,
            "dm_p_worse": 0.5,
            "coverage_80": 0.8,
            "interval_score_80": score,
            "kupiec_p_1": 0.4,
            "christoffersen_p_1": 0.6,
            "kupiec_p_5": 0.3,
            "christoffersen_p_5": 0.2,
        }
        for step, score in network_scores.items()
    }
    return {
        "steps": steps,
        "ewma_interval_score": {
            s: {"interval_score_80": v} for s, v in anchors["naive_ewma"].items()
        },
        "anchor_interval_score": {
            name: {s: {"interval_score_80": v} for s, v in scores.items()}
            for name, scores in anchors.items()
        },
    }


def test_the_gate_refuses_when_an_anchor_is_better_at_one_step():
    network = {1: 100.0, 2: 150.0, 3: 190.0}
    anchors = {"naive_ewma": {1: 110.0, 2: 160.0, 3: 200.0}}
    passes, reason = backtest_verdict(summary_of(network, anchors), GATE)
    assert passes, reason
    # GARCH's walk beats the network at step 2 only: beating EWMA's is not enough
    anchors["naive_garch"] = {1: 105.0, 2: 140.0, 3: 195.0}
    passes, reason = backtest_verdict(summary_of(network, anchors), GATE)
    assert not passes
    assert "step 2: 80% interval score 150 > 1.0 x the best anchor's (naive_garch) 140" in reason
    assert "step 1" not in reason and "step 3" not in reason


def test_the_gate_refuses_a_rejected_var_at_step_one_only():
    network = {1: 100.0, 2: 150.0}
    summary = summary_of(network, {"naive_ewma": {1: 110.0, 2: 160.0}})
    summary["steps"][2]["kupiec_p_1"] = 0.001  # overlapping 2-step hits: not gated
    assert backtest_verdict(summary, GATE)[0]
    summary["steps"][1]["christoffersen_p_5"] = 0.01
    passes, reason = backtest_verdict(summary, GATE)
    assert not passes and "step 1: Christoffersen rejects the 5% VaR (p 0.010 < 0.05)" in reason
    assert backtest_verdict(summary, {**GATE, "var_test_p_value": 0.0})[0]  # relaxed


def test_random_walk_quantiles_are_its_bounds():
    lower, upper = bounds(100.0, np.array([0.02, 0.03]), 0.8)
    quantiles = random_walk_quantiles(100.0, np.array([0.02, 0.03]), [0.1, 0.9])
    np.testing.assert_allclose(quantiles, [lower, upper], rtol=1e-12)
    assert stats.norm.ppf(0.9) == pytest.approx(np.log(upper[0] / 100) / 0.02)
    assert interval_score(np.array([1.0]), np.array([0.0]), np.array([2.0]), 0.8)[0] == 2.0
