"""The network over many consecutive windows at once, as when a forecast replays it on the
recent origins that calibrate its intervals.

Consecutive windows overlap in all but one row, and a "valid" Conv1D is the same function
at every position: run over the whole series once, it gives every window's outputs at a
cost of one window's rows each. A MaxPooling1D (strides = pool size) groups positions
in pairs (or its size) counted from the window's first position, so windows starting at
an even and at an odd row pool differently: the series is pooled once per phase (start
row modulo pool size), and the next block runs on each phase's pooled series. With the
default four blocks of pool 2 the conv layers run over 1 + 2 + 4 + 8 series of
decreasing length instead of over every window: 358 windows of 62 rows cost about 15x
less convolution. Each window then reads its positions out of its phase's last pooled
series, and the LSTM and dense layers run on all windows in one batch.

The result equals the network applied to each window up to float rounding (a test checks
it against ``predict_on_batch``). A network this does not describe ("same" padding, whose
zeros at a window's edges a series does not have; strides, dilation; channels first;
branches, or another layer order) is predicted window by window, as before.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Per network, its traced whole-series function (None: not a valid-padding conv/pool stack).
_REPLAYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def series_predictions(model: Any, series: np.ndarray, n_timesteps: int) -> np.ndarray:
    """The network's outputs (n_windows, horizon) for every complete window of
    ``n_timesteps`` rows of ``series`` (rows, features), oldest first: window i covers rows
    i .. i + n_timesteps - 1."""
    series = np.asarray(series, dtype="float32")
    n_windows = len(series) - n_timesteps + 1
    if n_windows < 1:
        raise ValueError(f"{len(series)} rows hold no window of {n_timesteps}.")
    replay = _replay_of(model)
    if replay is None or n_windows < 2 or _window_length(model) != n_timesteps:
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


def _window_length(model: Any) -> int | None:
    """The window length a network was built for (None when it has no fixed one)."""
    try:
        length = model.inputs[0].shape[1]
    except (AttributeError, IndexError, TypeError):
        return None
    return None if length is None else int(length)


def _chain(model: Any) -> list[Any] | None:
    """The network's layers after its input when each one reads the one before's output
    only (a single chain, no branch); None otherwise."""
    import keras

    try:
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        previous = model.inputs[0]
        for layer in layers:
            if layer.input is not previous:
                return None
            previous = layer.output
    except (AttributeError, IndexError, TypeError, ValueError):  # a layer called twice, ...
        return None
    return layers


def _conv_pool_blocks(model: Any) -> tuple[list[tuple[Any, Any]], list[Any]] | None:
    """The leading (Conv1D, MaxPooling1D) pairs of a chain network and the layers after
    them, when every conv is "valid" with stride and dilation 1, channels last, and every
    pool's stride is its size; None otherwise."""
    import keras

    layers = _chain(model)
    if layers is None or _window_length(model) is None:
        return None
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
        if conv.data_format != "channels_last" or pool.data_format != "channels_last":
            return None
        blocks.append((conv, pool))
        layers = layers[2:]
    convolutional = (keras.layers.Conv1D, keras.layers.MaxPooling1D)
    if not blocks or any(isinstance(layer, convolutional) for layer in layers):
        return None
    return blocks, layers


def _build_replay(model: Any) -> Any:
    """A tf.function (series (n_windows + n_timesteps - 1 rows, features), n_windows) ->
    the outputs of its n_windows consecutive windows, window i starting at row i."""
    import tensorflow as tf

    found = _conv_pool_blocks(model)
    if found is None:
        return None
    blocks, head = found
    length = int(blocks[-1][1].output.shape[1])  # a window's sequence after the stack

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
