"""The network's volatility correction (cryptopythia.model.volatility_network): without
learnable variance structure its weights are 0 and the sigma is the econometric one; with
structure EWMA cannot see but the ranges show, it earns a weight and beats EWMA on rows it
never saw; and no sigma reads a candle at or after its origin."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from test_volatility_models import (
    SETTINGS,
    candles_from_variance,
    garch_t_candles,
    scrambled_from,
)

from cryptopythia.model.volatility import Candles, model_of
from cryptopythia.model.volatility import lookback as model_lookback
from cryptopythia.model.volatility.network import registered_params
from cryptopythia.model.volatility_network import (
    combine,
    correction_paths,
    fit_correction,
    lookback,
    qlike,
)

NETWORK = SETTINGS["network"]
EWMA = {**SETTINGS, "volatility": "ewma"}


def squared_moves(candles: Candles, rows: np.ndarray) -> np.ndarray:
    """The squared one-candle log move after each row."""
    log_close = np.log(candles.close)
    return (log_close[rows + 1] - log_close[rows]) ** 2


def test_the_weights_are_zero_on_a_series_without_learnable_variance_structure():
    candles = candles_from_variance(np.full(3000, 4e-4), seed=1)  # i.i.d. normal moves
    params = {**NETWORK, "epochs": 2}
    correction = fit_correction(candles, EWMA, params, 3)
    assert correction.weights == [0.0, 0.0, 0.0]
    sigma, raw = correction_paths(candles, EWMA, correction, params, 200, 3)
    assert np.abs(raw).max() > 0  # the network does predict something...
    np.testing.assert_array_equal(combine(sigma, raw, correction.weights), sigma)  # ...unused


@pytest.mark.slow  # trains ~5 s
def test_a_variance_pattern_the_ranges_show_earns_a_weight_and_beats_ewma_out_of_sample():
    # variance 9x higher for 4 candles out of every 8: EWMA (decay 0.94) sees about the
    # average, the last few ranges tell the phase and so the next candle's variance
    n, fit_rows = 3000, 2000
    variance = np.where((np.arange(n) // 4) % 2 == 1, 9e-4, 1e-4)
    candles = candles_from_variance(variance, seed=3)
    params = {**NETWORK, "epochs": 10, "learning_rate": 0.005}
    correction = fit_correction(candles.rows(0, fit_rows), EWMA, params, 3)
    assert correction.weights[0] > 0
    assert correction.t_statistics[0] >= NETWORK["min_t_statistic"]
    held_out = n - fit_rows - 3  # rows fit_rows .. n - 4, each with its next close known
    sigma, raw = correction_paths(candles.rows(0, n - 3), EWMA, correction, params, held_out, 3)
    combined = combine(sigma, raw, correction.weights)
    realised = squared_moves(candles, np.arange(fit_rows, n - 3))
    econ_loss = qlike(realised, sigma[:, 0] ** 2).mean()
    assert qlike(realised, combined[:, 0] ** 2).mean() < econ_loss - 0.1


@pytest.mark.parametrize("econometric", ["ewma", "garch"])
def test_no_sigma_reads_a_candle_at_or_after_its_origin(econometric):
    _, sigma = garch_t_candles(900, seed=11)
    candles = candles_from_variance(sigma**2, seed=12)
    settings = {**SETTINGS, "volatility": econometric}
    params = {**NETWORK, "epochs": 1}
    fitted = fit_correction(candles.rows(0, 600), settings, params, 5)
    fitted = dataclasses.replace(fitted, weights=[1.0] * 5)  # the correction always shows
    # row t: the origin t + 1's sigma, from the candles up to t
    n_origins, stop, cut = 80, 780, 730  # rows 700..779; from row 730 on scrambled
    before_sigma, before_raw = correction_paths(
        candles.rows(0, stop), settings, fitted, params, n_origins, 5
    )
    scrambled = scrambled_from(candles, cut)
    after_sigma, after_raw = correction_paths(
        scrambled.rows(0, stop), settings, fitted, params, n_origins, 5
    )
    known = np.arange(stop - n_origins, stop) < cut  # rows whose candles are all unchanged
    assert np.abs(before_raw[known]).max() > 0
    np.testing.assert_allclose(after_raw[known], before_raw[known], rtol=1e-6)
    np.testing.assert_allclose(after_sigma[known], before_sigma[known], rtol=1e-12)
    assert not np.allclose(after_raw[~known], before_raw[~known])
    # a request sending only the origins and the lookback gets the same values
    rows = n_origins + lookback(settings, params, fitted.econ_params)
    short_sigma, short_raw = correction_paths(
        candles.rows(stop - rows, stop), settings, fitted, params, n_origins, 5
    )
    np.testing.assert_allclose(short_raw, before_raw, rtol=1e-6)
    np.testing.assert_allclose(short_sigma, before_sigma, rtol=1e-8)


def test_the_network_choice_serves_the_correction_it_registered():
    _, sigma = garch_t_candles(900, seed=21)
    candles = candles_from_variance(sigma**2, seed=22)
    block = {**NETWORK, "base": "garch", "epochs": 1}
    settings = {**SETTINGS, "volatility": "network", "network": block}
    base_settings = {**SETTINGS, "volatility": "garch"}
    fitted = fit_correction(candles.rows(0, 600), base_settings, block, 4)
    fitted = dataclasses.replace(fitted, weights=[1.0] * 4)  # the correction always shows
    # what the registry stores (JSON: no NaN) and the served model reads back
    params = json.loads(json.dumps(registered_params(fitted, block, 4), allow_nan=False))
    served = model_of("network").paths(candles.rows(0, 780), settings, params, 80, 6)
    # the in-memory network, not the one rebuilt from the registered weights
    sigma, raw = correction_paths(candles.rows(0, 780), base_settings, fitted, block, 80, 6)
    expected = combine(sigma, raw, fitted.weights)  # steps 5 and 6: never fitted, weight 0
    assert not np.allclose(expected[:, :4], sigma[:, :4])  # the network does move it
    np.testing.assert_allclose(served[:, :4], expected[:, :4], rtol=1e-5)
    np.testing.assert_allclose(served[:, 4:], np.maximum(sigma[:, 4:], served[:, 3:4]), rtol=1e-5)
    assert (np.diff(served, axis=1) >= 0).all()  # per-step weights never shrink the h-step sigma
    # a served request sends the origins and the model's lookback: the same sigma
    rows = 80 + model_lookback(settings, params)
    short = model_of("network").paths(candles.rows(780 - rows, 780), settings, params, 80, 6)
    np.testing.assert_allclose(short, served, rtol=1e-5)
    # with every weight 0 (no evidence) the sigma is the base model's
    unused = {**params, "weights": [0.0] * 4}
    base = model_of("garch").paths(candles.rows(0, 780), base_settings, fitted.econ_params, 80, 6)
    np.testing.assert_array_equal(
        model_of("network").paths(candles.rows(0, 780), settings, unused, 80, 6), base
    )
