"""The Conv1D -> MaxPool -> LSTM -> Dense network, sized by ``modelling.layers``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import keras


def conv_output_length(n_timesteps: int, layers: dict[str, Any]) -> int:
    """Length of the sequence the conv/pool stack hands to the first LSTM."""
    lengths = stack_lengths(n_timesteps, layers)
    return lengths[-1][1] if lengths else n_timesteps


def minimum_timesteps(layers: dict[str, Any]) -> int:
    """The shortest window the configured conv/pool stack can take (>= 1 step left)."""
    n_timesteps = 1
    while conv_output_length(n_timesteps, layers) < 1:
        n_timesteps += 1
    return n_timesteps


def stack_lengths(n_timesteps: int, layers: dict[str, Any]) -> list[tuple[int, int]]:
    """Per Conv1D+MaxPooling1D block: its input length and its pool's output length (0 once
    the sequence has run out; MaxPooling1D pads "valid", strides = pool size)."""
    length, lengths = n_timesteps, []
    for kernel, pool in zip(layers["conv_kernel_sizes"], layers["pool_sizes"]):
        convolved = length - kernel + 1 if layers["padding"] == "valid" else length
        pooled = max(convolved, 0) // pool
        lengths.append((length, pooled))
        length = pooled
    return lengths


def unseen_timesteps(n_timesteps: int, layers: dict[str, Any]) -> int:
    """How many of the newest candles of a window never reach the LSTM: each MaxPooling1D
    drops the positions left over after its last whole pool (walked back from the end)."""
    lengths = stack_lengths(n_timesteps, layers)
    if not lengths or lengths[-1][1] < 1:
        return n_timesteps
    newest = lengths[-1][1] - 1  # the LSTM reads every position it is given
    blocks = zip(layers["conv_kernel_sizes"], layers["pool_sizes"], lengths)
    for kernel, pool, (length_in, _) in reversed(list(blocks)):
        newest = pool * newest + pool - 1  # the pool's last window
        if layers["padding"] == "valid":
            newest += kernel - 1
        else:  # "same": Keras pads (kernel - 1) // 2 on the left, the rest on the right
            newest = min(newest + kernel // 2, length_in - 1)
    return n_timesteps - 1 - newest


def resolve_precision(precision: str) -> str:
    """The Keras dtype policy to train with: ``"auto"`` is "mixed_bfloat16" on a CPU with
    native bfloat16 (AMX or AVX512-BF16 in /proc/cpuinfo) and no GPU, else "float32"."""
    if precision != "auto":
        return precision
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    if "amx_bf16" not in flags and "avx512_bf16" not in flags:
        return "float32"
    import tensorflow as tf

    return "float32" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def build_model(
    n_timesteps: int,
    n_features: int,
    horizon: int,
    layers: dict[str, Any],
    learning_rate: float,
    precision: str,
    jit_compile: bool,
    steps_per_execution: int,
) -> keras.Model:
    """The reference recipe's Conv1D -> MaxPool x4 -> LSTM x2 -> Dense stack, sized by parameters,
    compiled with Adam and the MSE loss.

    ``precision`` is the Keras dtype policy of the hidden layers ("float32" or
    "mixed_bfloat16": bf16 compute, float32 weights); the output layer stays float32.
    """
    import keras

    dropout = float(layers["dropout"])
    inputs = keras.Input(shape=(n_timesteps, n_features), name="window")
    x = inputs
    for filters, kernel, pool in zip(
        layers["conv_filters"], layers["conv_kernel_sizes"], layers["pool_sizes"]
    ):
        x = keras.layers.Conv1D(
            filters,
            kernel,
            activation=layers["conv_activation"],
            padding=layers["padding"],
            dtype=precision,
        )(x)
        x = keras.layers.MaxPooling1D(pool, dtype=precision)(x)
    lstm_units = list(layers["lstm_units"])
    for i, units in enumerate(lstm_units):
        x = keras.layers.LSTM(
            units,
            activation=layers["lstm_activation"],
            return_sequences=i < len(lstm_units) - 1,
            dtype=precision,
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, dtype=precision)(x)
    for units in layers["dense_units"]:
        x = keras.layers.Dense(units, activation=layers["dense_activation"], dtype=precision)(x)
    outputs = keras.layers.Dense(horizon, name="targets", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="conv1d_lstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="mse",
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model
