"""Volatility-normalised adaptive conformal intervals: EWMA volatility, the conformal
quantile, and coverage on a series whose volatility clusters (GARCH)."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.model.intervals import (
    adaptive_quantile,
    adaptive_quantile_grid,
    adaptive_quantiles,
    conformal_quantile,
    ewma_volatility,
    normalised_scores,
)

SETTINGS = {"decay": 0.94, "window": 100, "calibration": 200, "adaptation": 150, "gamma": 0.005}


def garch_log_closes(n: int, seed: int) -> np.ndarray:
    """Log closes whose returns follow a GARCH(1,1): sigma2 = w + a r^2 + b sigma2."""
    rng = np.random.default_rng(seed)
    omega, alpha, beta = 2e-6, 0.12, 0.86
    variance, returns = omega / (1 - alpha - beta), np.empty(n)
    for t in range(n):
        returns[t] = np.sqrt(variance) * rng.standard_normal()
        variance = omega + alpha * returns[t] ** 2 + beta * variance
    return np.concatenate([[0.0], np.cumsum(returns)])


def test_ewma_volatility_depends_on_its_window_only():
    returns = np.r_[np.nan, np.random.default_rng(0).normal(0, 0.02, 600)]
    full = ewma_volatility(returns, 0.94, 100)
    tail = ewma_volatility(returns[300:], 0.94, 100)
    assert np.isnan(full[:100]).all() and np.isfinite(full[100:]).all()
    np.testing.assert_array_equal(full[400:], tail[100:])
    weights = 0.94 ** np.arange(100)
    expected = np.sqrt(np.sum(weights * returns[500:400:-1] ** 2) / weights.sum())
    assert full[500] == pytest.approx(expected, rel=1e-12)


def test_scores_are_log_distances_over_sigma_and_non_positive_forecasts_infinitely_wrong():
    scores = normalised_scores(
        np.array([110.0, 100.0, 100.0]), np.array([100.0, 0.0, -5.0]), np.array([0.05, 0.05, 0.05])
    )
    assert scores[0] == pytest.approx(np.log(1.1) / 0.05)
    assert np.isinf(scores[1:]).all()


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 11.0)  # 1..10
    assert conformal_quantile(scores, 0.8) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(scores, 0.95) == np.inf  # rank 11 > 10
    assert conformal_quantile(scores, 0.0) == 0.0


def straightforward_adaptive_quantile(scores, coverage, gamma, delay, window):
    """Adaptive conformal inference as written in Gibbs & Candes: one conformal quantile of
    the last ``window`` known scores per origin."""
    alpha, missed, shift, quantile = 1.0 - coverage, {}, 0.0, float("inf")
    for origin in range(window - 1 + delay, len(scores) + delay):
        known = origin - delay + 1
        if origin - delay in missed:
            shift += gamma * (alpha - missed[origin - delay])
        level = min(1.0 - (alpha + shift), window / (window + 1))
        quantile = conformal_quantile(scores[known - window : known], level)
        if origin < len(scores):
            missed[origin] = float(scores[origin] > quantile)
    return quantile


def test_adaptive_quantile_equals_the_straightforward_replay_exactly():
    rng = np.random.default_rng(7)
    for trial in range(60):
        scores = np.abs(rng.standard_t(3, int(rng.integers(150, 400))))
        scores[rng.integers(0, len(scores), trial % 3)] = np.inf  # diverged forecasts
        for coverage, gamma, delay in ((0.8, 0.005, 1), (0.95, 0.05, 3), (0.8, 0.1, 7)):
            args = (scores, coverage, gamma, delay, 200)
            assert adaptive_quantile(*args) == straightforward_adaptive_quantile(*args)


def test_adaptive_quantile_grid_equals_one_replay_per_coverage_exactly():
    rng = np.random.default_rng(11)
    coverages = np.r_[0.0, np.linspace(0.01, 0.99, 25), 0.995, 1.0]
    for trial in range(12):
        scores = np.abs(rng.standard_t(3, int(rng.integers(150, 400))))
        scores[rng.integers(0, len(scores), trial % 3)] = np.inf  # diverged forecasts
        for gamma, delay in ((0.005, 1), (0.05, 3), (0.1, 7)):
            grid = adaptive_quantile_grid(scores, coverages, gamma, delay, 120)
            one_by_one = [adaptive_quantile(scores, c, gamma, delay, 120) for c in coverages]
            np.testing.assert_array_equal(grid, one_by_one)


@pytest.mark.parametrize("step", [1, 3])
def test_adaptive_intervals_cover_a_garch_series_within_three_points(step):
    log_close = garch_log_closes(3200, seed=step)
    returns = np.r_[np.nan, np.diff(log_close)]
    sigma = ewma_volatility(returns, SETTINGS["decay"], SETTINGS["window"])
    # naive forecasts from every origin; score = |log(actual / forecast)| / sigma at the origin
    origins = np.arange(SETTINGS["window"], len(log_close) - step)
    scores = np.abs(log_close[origins + step] - log_close[origins]) / sigma[origins]
    replay = SETTINGS["calibration"] + SETTINGS["adaptation"]
    for coverage in (0.8, 0.95):
        inside = []
        for k in range(replay + step, len(origins)):
            known = scores[k - step - replay + 1 : k - step + 1]  # outcomes known at origin k
            q = adaptive_quantile(known, coverage, SETTINGS["gamma"], step, SETTINGS["calibration"])
            inside.append(scores[k] <= q)
        assert abs(np.mean(inside) - coverage) <= 0.03, (coverage, np.mean(inside))


@pytest.mark.parametrize("delay", [1, 3])
def test_adaptive_quantiles_of_a_walk_equal_one_replay_per_origin(delay):
    scores = np.abs(np.random.default_rng(delay).standard_t(3, 400))
    scores[150:170] *= 4  # a volatile spell: misses move the level
    window, adaptation, horizon = 40, 25, 4
    replay = window + adaptation + horizon + 1
    walk = adaptive_quantiles(scores, 0.8, 0.05, delay, window, replay)
    assert np.isnan(walk[: replay - 1]).all()
    for origin in range(replay - 1, len(scores)):
        known = scores[origin - replay + 1 : origin + 1][: replay - delay]
        assert walk[origin] == adaptive_quantile(known, 0.8, 0.05, delay, window)


def test_monotone_radii_uncross_levels_and_steps():
    from cryptopythia.model.quantiles import QuantileFunction, coverage_grid, monotone_radii

    coverages = np.array([0.0, 0.5, 0.8, 0.9, 1.0])
    # per-step quantiles of separate adaptive replays: 0.9 below 0.8 at step 2, and step 3's
    # 80% radius (1.0 * 0.30) below step 2's (1.6 * 0.25)
    quantiles = np.array(
        [[0.0, 0.0, 0.0], [0.7, 0.6, 0.6], [1.3, 1.6, 1.0], [1.7, 1.5, 1.8], [2.5, 2.4, 2.6]]
    )
    sigma = np.array([0.2, 0.25, 0.30, 0.32])
    radii = monotone_radii(quantiles, sigma, 4)
    assert np.all(np.diff(radii, axis=0) >= 0) and np.all(np.diff(radii, axis=1) >= 0)
    assert radii[3, 1] == pytest.approx(1.6 * 0.25)  # 0.9 lifted to 0.8's quantile
    assert radii[2, 2] == pytest.approx(1.6 * 0.25)  # step 3 kept as wide as step 2
    assert radii[4, 3] == pytest.approx(2.6 * 0.32)  # beyond the horizon: the last q
    function = QuantileFunction(coverages, radii)
    levels = np.linspace(0.001, 0.999, 301)
    moves = function.log_quantiles(levels)
    assert np.all(np.diff(moves, axis=0) >= 0)
    np.testing.assert_allclose(function.log_quantiles([0.1, 0.9]), [-radii[2], radii[2]])
    assert {0.8, 0.95, 0.995, 0.999} <= set(coverage_grid([0.8, 0.95]).tolist())
