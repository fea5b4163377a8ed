"""The network over consecutive windows at once (``model.replay``) gives what it gives
window by window, for the stacks it applies to, and falls back for the others."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cryptopythia.model.network import build_model
from cryptopythia.model.replay import _replay_of, series_predictions

from support.modelling import PARAMS


def window_by_window(model, series: np.ndarray) -> np.ndarray:
    n_timesteps = int(model.inputs[0].shape[1])
    windows = sliding_window_view(series, n_timesteps, axis=0).transpose(0, 2, 1)
    return np.asarray(model.predict_on_batch(np.ascontiguousarray(windows)))


@pytest.mark.parametrize(
    ("n_timesteps", "kernels", "pools", "n_windows", "precision"),
    [
        (62, [3, 3, 3, 3], [2, 2, 2, 2], 358, "float32"),  # the served replay's size
        (62, [3, 3, 3, 3], [2, 2, 2, 2], 358, "mixed_bfloat16"),
        (60, [3, 3, 3, 3], [2, 2, 2, 2], 37, "float32"),  # pools drop positions
        (40, [5, 3], [3, 2], 23, "float32"),  # other pool sizes, not a multiple of phases
        (62, [3, 3, 3, 3], [2, 2, 2, 2], 2, "float32"),
    ],
)
def test_a_replay_over_the_series_equals_the_network_on_each_window(
    n_timesteps, kernels, pools, n_windows, precision
):
    layers = {
        **copy.deepcopy(PARAMS["layers"]),
        "conv_filters": [8] * len(kernels),
        "conv_kernel_sizes": kernels,
        "pool_sizes": pools,
    }
    model = build_model(n_timesteps, 5, 3, layers, 1e-3, precision, False, 1)
    series = np.random.default_rng(n_windows).random((n_windows + n_timesteps - 1, 5))
    assert _replay_of(model) is not None
    replayed = series_predictions(model, series, n_timesteps)
    assert replayed.shape == (n_windows, 3)
    np.testing.assert_allclose(replayed, window_by_window(model, series), rtol=1e-5, atol=1e-6)


def test_same_padding_is_predicted_window_by_window():
    """With "same" padding a window's edges see zeros that the whole series does not have:
    no replay, and the answer is still the network's on each window."""
    layers = {**copy.deepcopy(PARAMS["layers"]), "padding": "same", "conv_filters": [8] * 4}
    model = build_model(30, 4, 2, layers, 1e-3, "float32", False, 1)
    series = np.random.default_rng(3).random((50, 4))
    assert _replay_of(model) is None
    np.testing.assert_array_equal(
        series_predictions(model, series, 30), window_by_window(model, series)
    )


def test_a_series_shorter_than_a_window_is_an_error():
    model = build_model(46, 4, 2, PARAMS["layers"], 1e-3, "float32", False, 1)
    with pytest.raises(ValueError, match="45 rows hold no window of 46"):
        series_predictions(model, np.zeros((45, 4)), 46)


def test_a_network_with_a_branch_is_predicted_window_by_window():
    """A layer that does not read the one before it (a skip connection) is not a chain:
    running the layers one after another would be another network."""
    import keras

    inputs = keras.Input(shape=(20, 3))
    pooled = keras.layers.MaxPooling1D(2)(keras.layers.Conv1D(4, 3)(inputs))
    sequence = keras.layers.LSTM(4)(pooled)
    joined = keras.layers.Add()([keras.layers.Dense(4)(sequence), keras.layers.Dense(4)(sequence)])
    model = keras.Model(inputs, keras.layers.Dense(2)(joined))
    series = np.random.default_rng(5).random((40, 3))
    assert _replay_of(model) is None
    np.testing.assert_array_equal(
        series_predictions(model, series, 20), window_by_window(model, series)
    )
