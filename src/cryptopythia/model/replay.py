"""The network over many consecutive windows at once, as when a forecast replays it on the
recent origins that calibrate its intervals.

Consecutive windows overlap in all but one row, and a "valid" Conv1D is the same function
at every position: run over the whole series once, it gives every window's outputs at a
cost of one window's rows each. A MaxPooling1D (strides = pool size) groups positions
in pairs (or its size) counted from the window's first position, so windows starting at
an even and at an odd row pool differently: the series is pooled once per phase (start
row modulo pool size), and the next block runs on each phase's pooled series. With the
default four blocks of pool 2 the conv layers run over 1 + 2 + 4 + 8 series of
decreasing length instead of over every window: 358 windows of 62 rows cost about 30x
less convolution. Each window then reads its positions out of its phase's last pooled
series, and the LSTM and dense layers run on all windows in one batch.

The result equals the network applied to each window up to float rounding (a test checks
it against ``predict_on_batch``). A network this does not describe ("same" padding, whose
zeros at a window's edges a series does not have; strides, dilation; another layer
order) is predicted window by window, as before.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Per network, its traced whole-series function (None: not a valid-padding conv/pool stack).
_REPLAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def series_predictions(model: Any, series: np.ndarray) -> np.ndarray:
    """The network's outputs (n_windows, horizon) for every complete window of ``series``
    (rows, features), oldest first: window i covers rows i .. i + n_timesteps - 1."""
    series = np.asarray(series, dtype="float32")
    n_timesteps = int(model.inputs[0].shape[1])
    n_windows = len(series) - n_timesteps + 1
    if n_windows < 1:
        raise ValueError(f"{len(series)} rows hold no window of {n_timesteps}.")
    replay = _replay_of(model)
    if replay is None or n_windows < 2:
        windows = sliding_window_view(series, n_timesteps, axis=0).transpose(0, 2, 1)
        return np.asarray(model.predict_on_batch(np.ascontiguousarray(windows)))
    return np.asarray(replay(series, n_windows))


def _replay_of(model: Any) -> Any:
    """The network's whole-series function, traced once per network (None: not possible)."""
    try:
        return _REPLAYS[model]
    except KeyError:
        _REPLAYS[model] = replay = _build_replay(model)
        return replay
    except TypeError:  # an object that cannot be weakly referenced: no cache, no replay
        return None


def _conv_pool_blocks(model: Any) -> tuple[list[tuple[Any, Any]], list[Any]] | None:
    """The leading (Conv1D, MaxPooling1D) pairs of a chain network and the layers after
    them, when every conv is "valid" with stride and dilation 1 and every pool's stride
    is its size; None otherwise."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    blocks = []
    while len(layers) >= 2 and isinstance(layers[0], keras.layers.Conv1D):
        conv, pool = layers[0], layers[1]
        if not isinstance(pool, keras.layers.MaxPooling1D):
            return None
        if conv.padding != "valid" or tuple(conv.strides) != (1,):
            return None
        if tuple(conv.dilation_rate) != (1,) or conv.groups != 1:
            return None
        if pool.padding != "valid" or tuple(pool.strides) != tuple(pool.pool_size):
            return None
        blocks.append((conv, pool))
        layers = layers[2:]
    convolutional = (keras.layers.Conv1D, keras.layers.MaxPooling1D)
    if not blocks or any(isinstance(layer, convolutional) for layer in layers):
        return None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return None
    return blocks, layers


def _build_replay(model: Any) -> Any:
    """A tf.function (series (rows, features), n_windows) -> outputs of the n_windows
    consecutive windows ending at the series' last row."""
    import tensorflow as tf

    found = _conv_pool_blocks(model)
    if found is None:
        return None
    blocks, head = found
    n_timesteps = int(model.inputs[0].shape[1])

    def final_sequences(
        series: tf.Tensor, starts: np.ndarray, order: np.ndarray, remaining: list
    ) -> list[tuple[tf.Tensor, np.ndarray, np.ndarray]]:
        """(pooled series, window starts in it, window numbers) per pooling phase."""
        if not remaining:
            return [(series, starts, order)]
        (conv, pool), rest = remaining[0], remaining[1:]
        convolved = conv(series)
        size = int(pool.pool_size[0])
        sequences = []
        for phase in range(size):
            chosen = starts % size == phase
            if chosen.any():
                pooled = pool(convolved[:, phase:, :])
                sequences += final_sequences(
                    pooled, (starts[chosen] - phase) // size, order[chosen], rest
                )
        return sequences

    @tf.function(reduce_retracing=True)
    def replay(series: tf.Tensor, n_windows: int) -> tf.Tensor:
        starts = np.arange(n_windows)  # window i covers series rows i .. i + n_timesteps - 1
        # the length of every window's sequence after the stack (the LSTM's input)
        length = n_timesteps
        for conv, pool in blocks:
            length = (length - int(conv.kernel_size[0]) + 1) // int(pool.pool_size[0])
        parts, order = [], []
        for sequence, first, numbers in final_sequences(series[None], starts, starts, blocks):
            positions = first[:, None] + np.arange(length)[None, :]
            parts.append(tf.gather(sequence[0], positions))
            order.append(numbers)
        x = tf.concat(parts, axis=0)
        for layer in head:
            x = layer(x, training=False)
        # back to window order
        return tf.gather(x, np.argsort(np.concatenate(order)))

    return lambda series, n_windows: replay(tf.constant(series), int(n_windows))
