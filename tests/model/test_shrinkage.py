"""Shrinkage towards naive: the weights, and a network trained on a pure random walk
becoming naive persistence."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.features import build_gold, check_parameters
from cryptopythia.model.evaluation import fit_shrinkage
from cryptopythia.model.forecaster import Forecaster, forecast
from cryptopythia.model.scaling import fit_scaler
from cryptopythia.model.shrinkage import fit_weights, shrink
from cryptopythia.model.split import split_chronologically
from cryptopythia.model.table import prepare_model_table
from cryptopythia.model.training import train_model
from cryptopythia.model.volatility import fit_volatility

from support.forecasters import FEATURE_PARAMS, MODELLING, SMALL_INTERVALS, TINY_LAYERS, make_silver


def test_weights_are_least_squares_clipped_and_need_evidence():
    rng = np.random.default_rng(0)
    last = np.full(400, 100.0)
    move = rng.normal(0, 0.02, (400, 2))
    actual = last[:, None] * np.exp(move)
    perfect = fit_weights(actual, actual, last, "log_return", min_t=2.0)
    assert perfect == pytest.approx([1.0, 1.0])
    double = last[:, None] * np.exp(2 * move)  # predicts twice the move: weight 1/2
    assert fit_weights(double, actual, last, "log_return", min_t=2.0) == pytest.approx([0.5, 0.5])
    opposite = last[:, None] * np.exp(-move)
    assert fit_weights(opposite, actual, last, "log_return", min_t=2.0) == [0.0, 0.0]
    unrelated = last[:, None] * np.exp(rng.normal(0, 0.02, (400, 2)))
    assert fit_weights(unrelated, actual, last, "log_return", min_t=2.0) == [0.0, 0.0]
    half = shrink(double, last, np.array([0.5, 0.5]), "log_return")
    np.testing.assert_allclose(half, actual, rtol=1e-12)


def test_overlapping_moves_do_not_fake_evidence_of_skill():
    # A forecaster without skill whose 6-candle predicted moves, like a network's on
    # consecutive windows, share 5 candles with their neighbours (so do the realised
    # moves): with the i.i.d. standard error of a regression ~15% of samples pass
    # t >= 2; the Newey-West one keeps false evidence near the nominal 2.3%.
    rng = np.random.default_rng(1)
    step, n, trials = 6, 300, 300
    passed = 0
    for _ in range(trials):
        shocks, noise = rng.normal(0, 0.02, (2, n + step))
        window = np.ones(step)
        realised = np.convolve(shocks, window, "valid")[:n]
        predicted = np.convolve(noise, window, "valid")[:n]
        last = np.full(n, 100.0)
        forecast = np.tile(last[:, None], (1, step))
        forecast[:, -1] = 100.0 * np.exp(predicted)
        actual = np.tile(last[:, None], (1, step))
        actual[:, -1] = 100.0 * np.exp(realised)
        passed += fit_weights(forecast, actual, last, "log_return", min_t=2.0)[-1] > 0
    assert passed / trials < 0.06


def test_a_persistent_skill_less_forecaster_rarely_gets_a_weight_at_any_step():
    # What a refit faces: 7 steps tested on ~80 overlapping calibration windows, returns
    # with fat tails and clustering volatility, and a network whose (skill-less) predicted
    # moves drift slowly from one window to the next. At the default threshold, some step
    # of the 7 gets a weight in under 7% of samples (4.7% at t >= 3; 14.7% at t >= 2).
    rng = np.random.default_rng(0)
    horizon, n, trials, weighted = 7, 80, 300, 0
    for _ in range(trials):
        volatility = 0.03 * np.exp(0.5 * np.cumsum(rng.normal(0, 0.05, n + horizon + 1)))
        returns = rng.standard_t(4, n + horizon + 1) * volatility / np.sqrt(2)
        drifting = np.convolve(rng.normal(0, 1, n + 20), np.ones(20) / 20, "same")[:n]
        realised = np.stack([np.cumsum(returns[i + 1 : i + 1 + horizon]) for i in range(n)])
        predicted = 0.01 * drifting[:, None] * np.sqrt(np.arange(1, horizon + 1))[None, :]
        last = np.full(n, 100.0)
        weights = fit_weights(
            100 * np.exp(predicted),
            100 * np.exp(realised),
            last,
            "log_return",
            min_t=MODELLING["shrinkage"]["min_t_statistic"],
        )
        weighted += any(weight > 0 for weight in weights)
    assert weighted / trials < 0.07


@pytest.mark.slow  # trains a network
def test_a_network_trained_on_a_random_walk_forecasts_the_last_close():
    silver = make_silver(900, seed=3)  # a driftless random walk: nothing to learn
    gold = build_gold(silver, FEATURE_PARAMS, "1d")
    params = {
        **MODELLING,
        "layers": TINY_LAYERS,
        "n_timesteps": 22,
        "horizon": 3,
        "epochs": 3,
        "verbose": 0,
    }
    units = check_parameters(FEATURE_PARAMS, "1d")["units"]
    table, spec = prepare_model_table(gold, params, units)
    train, validation, _ = split_chronologically(table, params["split"], params["n_timesteps"], 3)
    scaler = fit_scaler(train, spec)
    model, _ = train_model(train, validation, scaler, spec, params)
    weights = fit_shrinkage(model, scaler, validation, spec, 256, params["shrinkage"])
    assert weights == [0.0, 0.0, 0.0]
    forecaster = Forecaster(
        model=model,
        scaler=scaler,
        spec=spec,
        feature_params=FEATURE_PARAMS,
        shrinkage=weights,
        intervals=SMALL_INTERVALS,
        volatility_params=fit_volatility(train, SMALL_INTERVALS, 3),
    )
    result = forecast(silver, forecaster, 3)
    np.testing.assert_allclose(result["forecast_close"], silver["close"].iloc[-1], rtol=1e-9)
