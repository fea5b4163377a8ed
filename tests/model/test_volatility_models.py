"""The volatility models behind the intervals (cryptopythia.model.volatility): each recovers
the variance of a process it should know, none reads a candle at or after its origin, the
range model survives bad prints and flat candles, and the h-step sigma grows with h."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest
import yaml

from cryptopythia.model.volatility import (
    MODELS,
    Candles,
    candles_of,
    lookback,
    model_of,
    volatility_paths,
    walk_paths,
)
from cryptopythia.parameter_schemas import Intervals

from conftest import PROJECT_ROOT
from support.project import DAILY_CANDLES

SETTINGS = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_modelling.yml").read_text())[
    "modelling"
]["intervals"]
SUBSTEPS = 16  # price moves inside a simulated candle, for its high and low


def candles_from_variance(variance: np.ndarray, seed: int) -> Candles:
    """Candles whose log move over candle t is Brownian with variance ``variance[t]``:
    open = previous close, high/low the extremes of the path inside the candle."""
    rng = np.random.default_rng(seed)
    moves = rng.standard_normal((len(variance), SUBSTEPS)) * np.sqrt(variance / SUBSTEPS)[:, None]
    inside = np.cumsum(moves, axis=1)
    opens = np.concatenate([[0.0], np.cumsum(inside[:, -1])[:-1]])
    path = opens[:, None] + np.concatenate([np.zeros((len(variance), 1)), inside], axis=1)
    price = 100 * np.exp(path)
    return Candles(close=price[:, -1], open=price[:, 0], high=price.max(1), low=price.min(1))


def garch_t_candles(n: int, seed: int) -> tuple[Candles, np.ndarray]:
    """Candles of a GARCH(1,1) with Student-t (nu 5) errors, and the true conditional sigma
    of each candle's log move given the candles before it."""
    rng = np.random.default_rng(seed)
    omega, alpha, beta, nu = 4e-6, 0.1, 0.88, 5.0
    shocks = rng.standard_t(nu, n) / np.sqrt(nu / (nu - 2))
    variance = np.empty(n)
    current = omega / (1 - alpha - beta)
    for t in range(n):
        variance[t] = current
        current = omega + alpha * current * shocks[t] ** 2 + beta * current
    returns = np.sqrt(variance) * shocks
    close = 100 * np.exp(np.cumsum(returns))
    return Candles(close=close), np.sqrt(variance)


def har_candles(n: int, seed: int) -> tuple[Candles, np.ndarray]:
    """Candles whose log variance follows a HAR(1, 5, 22), and the true one-step sigma
    (E[v_t | the past]) of each candle."""
    rng = np.random.default_rng(seed)
    b0, b1, b5, b22, noise = -0.35, 0.35, 0.35, 0.25, 0.35
    log_v = np.full(n, np.log(4e-4))
    expected = np.full(n, np.log(4e-4))
    for t in range(22, n):
        mean = (
            b0 + b1 * log_v[t - 1] + b5 * log_v[t - 5 : t].mean() + b22 * log_v[t - 22 : t].mean()
        )
        expected[t] = mean
        log_v[t] = mean + noise * rng.standard_normal()
    return candles_from_variance(np.exp(log_v), seed + 1), np.sqrt(np.exp(expected + noise**2 / 2))


def settings_of(name: str, **overrides) -> dict:
    """The shipped interval settings with ``name``'s model (the network trained briefly)."""
    network = {**SETTINGS["network"], "epochs": 2}
    return {**SETTINGS, "volatility": name, "network": network, **overrides}


def test_the_registry_serves_exactly_the_schemas_names():
    allowed = typing.get_args(Intervals.model_fields["volatility"].annotation)
    assert set(allowed) == set(MODELS)
    with pytest.raises(ValueError, match="use one of ewma, garch"):
        model_of("sabr")


@pytest.mark.parametrize("name", ["garch_t", "gjr_t"])
def test_student_t_garch_recovers_the_true_conditional_sigma(name):
    candles, sigma = garch_t_candles(3000, seed=3)
    settings = settings_of(name, volatility_refit_every=10_000)
    fitted = walk_paths(candles, settings, list(range(2500, 3000)), 3, train_start=0)
    params = model_of(name).fit(candles.rows(0, 2500), settings, 5)
    assert 3 < params["nu"] < 9 and 0.8 < params["alpha"] + params["beta"] < 1
    ratio = fitted[:, 0] / sigma[2500:3000]
    assert np.median(np.abs(ratio - 1)) < 0.1
    assert np.corrcoef(np.log(fitted[:, 0]), np.log(sigma[2500:3000]))[0, 1] > 0.95


@pytest.mark.parametrize("name", ["garch_t", "gjr_t"])
def test_an_integrated_student_t_fit_starts_its_filter_at_the_returns_scale(name):
    # arch fits BTC's daily returns with alpha + beta = 1: there is no unconditional
    # variance to start the filter at (started there, a refit's first 30 origins had 2-2.4x
    # the EWMA sigma, and the backtest's garch_t walk covered 98% at 80%)
    candles = candles_of(pd.read_csv(DAILY_CANDLES))
    settings = settings_of(name)
    params = model_of(name).fit(candles.rows(0, 1500), settings, 7)
    assert params["alpha"] + params["gamma"] / 2 + params["beta"] > 0.995
    # a refit's block of 30 origins, as the walk-forward computes it
    block = candles.rows(0, 1530)
    sigma = volatility_paths(block, settings, params, 30, 7)
    ewma_settings = settings_of("ewma")
    ewma_params = model_of("ewma").fit(candles.rows(0, 1500), ewma_settings, 7)
    ewma = volatility_paths(block, ewma_settings, ewma_params, 30, 7)
    ratio = sigma / ewma
    assert ratio.min() > 0.8 and ratio.max() < 1.3


def test_har_range_tracks_a_har_log_variance():
    candles, sigma = har_candles(2600, seed=5)
    settings = settings_of("har_range", volatility_refit_every=10_000)
    fitted = walk_paths(candles, settings, list(range(2000, 2600)), 2, train_start=0)[:, 0]
    truth = sigma[2000:2600]
    assert np.corrcoef(np.log(fitted), np.log(truth))[0, 1] > 0.8
    assert 0.85 < np.median(fitted / truth) < 1.15
    ewma = walk_paths(candles, settings_of("ewma"), list(range(2000, 2600)), 2, 0)[:, 0]
    assert (
        np.corrcoef(np.log(ewma), np.log(truth))[0, 1]
        < np.corrcoef(np.log(fitted), np.log(truth))[0, 1]
    )  # the range and the HAR know more than squared closes


def test_a_flash_crash_wick_and_flat_candles_do_not_blow_up_the_range_model():
    candles, _ = har_candles(1400, seed=7)
    low, high = candles.low.copy(), candles.high.copy()
    opens, close = candles.open.copy(), candles.close.copy()
    low[1100] = 1e-4 * opens[1100]  # LINKUSDT 2020-03-12: a low of 0.0001 under 3.8
    high[1150] = 50 * opens[1150]  # and a spike print
    for row in range(1200, 1210):  # no trade: every price is the last close
        opens[row] = high[row] = low[row] = close[row] = close[1199]
    low[300] = 1e-4 * opens[300]  # a bad print inside the training rows too
    damaged = Candles(close=close, open=opens, high=high, low=low)
    origins = list(range(1000, 1400))
    har = walk_paths(damaged, settings_of("har_range"), origins, 7, train_start=0)
    ewma = walk_paths(damaged, settings_of("ewma"), origins, 7, train_start=0)
    assert np.isfinite(har).all() and (har > 0).all()
    ratio = har / ewma
    assert ratio.min() > 0.2 and ratio.max() < 5.0  # unfloored: a flat spell gives 1e-5
    # right after a bad print, sigma is that of the clean candles (unguarded: x1.6 to x1.8)
    clean = walk_paths(candles, settings_of("har_range"), origins, 7, train_start=0)
    for origin in (1101, 1151):
        assert har[origin - 1000] == pytest.approx(clean[origin - 1000], rel=0.1)


def scrambled_from(candles: Candles, cut: int) -> Candles:
    """``candles`` with every row from ``cut`` on rescaled at random and given wicks."""
    rng = np.random.default_rng(0)
    factor, wick = np.ones(len(candles)), np.ones(len(candles))
    factor[cut:] = rng.uniform(0.3, 3.0, len(candles) - cut)
    wick[cut:] = 1.5
    return Candles(
        close=candles.close * factor,
        open=candles.open * factor,
        high=candles.high * factor * wick,
        low=candles.low * factor / wick,
    )


def assert_blind_to_the_future(settings: dict) -> None:
    """Scrambling the candles from row 730 on leaves sigma at the origins up to 730."""
    _, sigma = garch_t_candles(900, seed=11)
    candles = candles_from_variance(sigma**2, seed=12)
    origins = list(range(700, 780))
    before = walk_paths(candles, settings, origins, 5, train_start=0)
    cut = 730  # rows from here on scrambled: the origins up to 730 must not change
    scrambled = scrambled_from(candles, cut)
    after = walk_paths(scrambled, settings, origins, 5, train_start=0)
    known = np.asarray(origins) <= cut
    np.testing.assert_allclose(after[known], before[known], rtol=1e-12)
    assert not np.allclose(after[~known], before[~known])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_no_model_reads_a_candle_at_or_after_its_origin(name):
    assert_blind_to_the_future(settings_of(name))


@pytest.mark.parametrize("name", ["garch", "garch_t", "gjr_t"])
def test_a_burn_in_shorter_than_arch_s_backcast_does_not_read_an_origin(name):
    # arch's backcast reads up to 75 returns; the filter's start may read only the burn-in
    assert_blind_to_the_future(settings_of(name, ewma_window=20))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_h_step_sigma_never_decreases_and_a_longer_history_changes_nothing(name):
    _, sigma = garch_t_candles(1200, seed=13)
    candles = candles_from_variance(sigma**2, seed=14)
    settings = settings_of(name)
    params = model_of(name).fit(candles.rows(0, 900), settings, 10)
    paths = volatility_paths(candles, settings, params, 300, 10)
    assert np.isfinite(paths).all() and (paths > 0).all()
    assert (np.diff(paths, axis=1) >= 0).all()
    # what a served request sends: the origins and the model's lookback (the GARCH
    # filters forget where they start at beta ** ewma_window)
    rows = 300 + lookback(settings, params)
    short = volatility_paths(candles.rows(len(candles) - rows, None), settings, params, 300, 10)
    np.testing.assert_allclose(short, paths, rtol=1e-8)


@pytest.mark.parametrize("name", ["gjr_t", "har_range"])
def test_the_served_forecast_uses_the_registered_parameters_on_the_requests_candles(name):
    from cryptopythia.model.forecaster import forecast

    from support.forecasters import make_forecaster, make_silver

    silver = make_silver(260)
    # naive (every shrinkage weight 0): the bounds depend on the volatility model only
    forecaster = make_forecaster(silver, volatility=name, shrinkage=[0.0] * 3)
    assert set(forecaster.volatility_params) >= {"omega", "nu"} or "coefficients" in (
        forecaster.volatility_params
    )
    result = forecast(silver, forecaster, 5)
    width = np.log(result["upper_80"] / result["lower_80"]).to_numpy()
    assert np.isfinite(width).all() and (width > 0).all()
    # only the last min_candles candles matter, as for a served request
    again = forecast(silver.iloc[-forecaster.min_candles :], forecaster, 5)
    pd.testing.assert_frame_equal(again, result, rtol=1e-9)


def test_a_rolling_fit_window_reads_only_its_last_rows():
    _, sigma = garch_t_candles(900, seed=17)
    candles = candles_from_variance(sigma**2, seed=18)
    settings = settings_of("har_range", volatility_fit_rows=300)
    origins = list(range(700, 780))
    before = walk_paths(candles, settings, origins, 3, train_start=0)
    factor = np.where(np.arange(len(candles)) < 400, 3.0, 1.0)  # before every fit's rows
    older = Candles(
        close=candles.close * factor,
        open=candles.open * factor,
        high=candles.high * factor**1.1,
        low=candles.low * factor**0.9,
    )
    np.testing.assert_allclose(walk_paths(older, settings, origins, 3, 0), before, rtol=1e-12)
    expanding = walk_paths(older, settings_of("har_range"), origins, 3, 0)
    assert not np.allclose(expanding, before)
