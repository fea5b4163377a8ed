"""The network sees its whole window: which candles reach the output, on a real Keras model."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cryptopythia.model.network import build_model, unseen_timesteps
from cryptopythia.model.table import check_modelling_params

from support.modelling import PARAMS


def seen_by_gradient(n_timesteps: int, layers: dict) -> np.ndarray:
    """The window rows whose input moves the output: a nonzero gradient of a built model for
    some window of a batch (one window alone may hide a row behind a max or a ReLU)."""
    import tensorflow as tf

    model = build_model(n_timesteps, 3, 2, layers, 1e-3, "float32", False, 1)
    window = tf.constant(np.random.default_rng(0).random((64, n_timesteps, 3)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(window)
        total = tf.reduce_sum(model(window))
    gradient = np.abs(tape.gradient(total, window).numpy()).sum(axis=(0, 2))
    return np.flatnonzero(gradient > 0)


@pytest.mark.parametrize(
    ("n_timesteps", "padding", "kernels", "pools"),
    [
        (60, "valid", [3, 3, 3, 3], [2, 2, 2, 2]),  # the old default: 14 newest candles lost
        (62, "valid", [3, 3, 3, 3], [2, 2, 2, 2]),
        (46, "valid", [3, 3, 3, 3], [2, 2, 2, 2]),
        (51, "valid", [3, 3, 3, 3], [2, 2, 2, 2]),
        (60, "same", [3, 3, 3, 3], [2, 2, 2, 2]),
        (23, "same", [3, 3, 3, 3], [2, 2, 2, 2]),
        (40, "valid", [5, 3], [3, 2]),
        (41, "same", [4, 2], [3, 2]),
    ],
)
def test_unseen_candles_are_counted_as_the_network_drops_them(n_timesteps, padding, kernels, pools):
    layers = {
        **PARAMS["layers"],
        "padding": padding,
        "conv_kernel_sizes": kernels,
        "pool_sizes": pools,
        "conv_filters": [8] * len(kernels),
        "lstm_units": [3],
        "dense_units": [],
    }
    seen = seen_by_gradient(n_timesteps, layers)
    assert seen[0] == 0
    assert unseen_timesteps(n_timesteps, layers) == n_timesteps - 1 - seen[-1]


def test_a_window_whose_newest_candles_are_never_seen_is_refused_with_windows_that_work():
    params = copy.deepcopy(PARAMS)
    params["n_timesteps"] = 60
    with pytest.raises(ValueError, match="never passes the newest 14 candles") as error:
        check_modelling_params(params)
    assert "(62, 46, 78), or padding 'same', e.g. --params modelling.n_timesteps=62" in str(
        error.value
    )
    params["n_timesteps"] = PARAMS["n_timesteps"]  # the default is seen whole
    check_modelling_params(params)
    assert unseen_timesteps(PARAMS["n_timesteps"], PARAMS["layers"]) == 0
