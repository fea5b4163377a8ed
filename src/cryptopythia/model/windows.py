"""Windows of ``n_timesteps`` rows and their next ``horizon`` targets, as zero-copy views
and as a tf.data pipeline that gathers them by index."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf


def count_windows(n_rows: int, n_timesteps: int, horizon: int) -> int:
    """How many (window, future targets) pairs fit inside ``n_rows`` rows."""
    return max(n_rows - n_timesteps - horizon + 1, 0)


def window_view(scaled: np.ndarray, n_timesteps: int, horizon: int) -> np.ndarray:
    """Zero-copy strided view (n_windows, n_timesteps, n_features) of the windows that
    have ``horizon`` known rows after them; window i covers rows i..i+n_timesteps-1."""
    n_windows = count_windows(len(scaled), n_timesteps, horizon)
    return sliding_window_view(scaled, n_timesteps, axis=0).transpose(0, 2, 1)[:n_windows]


def last_windows(scaled: np.ndarray, n_timesteps: int) -> np.ndarray:
    """Every complete window of a table, including those with no known future
    (what inference needs to forecast past the last candle)."""
    return sliding_window_view(scaled, n_timesteps, axis=0).transpose(0, 2, 1)


def target_paths(scaled: np.ndarray, n_timesteps: int, horizon: int) -> np.ndarray:
    """Targets (n_windows, horizon) of each window: target rows t+1..t+horizon, with t
    the window's last row. Read from the last column of the scaled table."""
    n_windows = count_windows(len(scaled), n_timesteps, horizon)
    return sliding_window_view(scaled[n_timesteps:, -1], horizon)[:n_windows]


def window_dataset(
    scaled: np.ndarray,
    n_timesteps: int,
    horizon: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """A batched tf.data pipeline of (window, targets) pairs from one split.

    The split is stored once as a tensor; each batch gathers its windows by index, so
    the series is never copied ``n_timesteps`` times. Windows stay inside the array,
    so they never straddle a split boundary.

    tf.data's autotuning is off, with one gather in flight and one batch prefetched: on
    a 2-core CPU its background thread held every iterator's shutdown (each epoch's end)
    until ~1.28 s after the iterator started, doubling the epochs that took 0.65 s in
    about 40% of them (benchmarks/train.py). A batch gather is one small op: nothing to tune.
    """
    import tensorflow as tf

    n_windows = count_windows(len(scaled), n_timesteps, horizon)
    data = tf.constant(scaled, dtype=tf.float32)
    targets = tf.constant(target_paths(scaled, n_timesteps, horizon), dtype=tf.float32)
    offsets = tf.range(n_timesteps, dtype=tf.int64)

    def gather(starts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.gather(data, starts[:, None] + offsets[None, :]), tf.gather(targets, starts)

    dataset = tf.data.Dataset.range(n_windows)
    if shuffle:
        dataset = dataset.shuffle(n_windows, seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.batch(batch_size).map(gather).prefetch(1).with_options(options)
