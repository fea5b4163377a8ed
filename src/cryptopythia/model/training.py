"""Training the network: seeded, early-stopped on validation loss, timed per epoch."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .network import build_model, resolve_precision
from .scaling import scale_table
from .spec import ModelSpec
from .windows import count_windows, window_dataset

if TYPE_CHECKING:  # pragma: no cover
    import keras

# A keras.Model. Node signatures must resolve at run time (Kedro reads their type
# hints) while Keras is only imported when needed: TensorFlow takes seconds to load.
KerasModel = Any

logger = logging.getLogger(__name__)


def train_model(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    scaler: Any,
    spec: ModelSpec,
    params: dict[str, Any],
) -> tuple[KerasModel, dict[str, list[float]]]:
    """Fit the network on the training windows with early stopping on validation loss
    (best weights restored); returns the model and its per-epoch history."""
    import keras
    import tensorflow as tf  # before keras: MLflow's import hooks expect it

    keras.utils.set_random_seed(int(params["seed"]))
    if params["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    n_timesteps, horizon = spec.n_timesteps, spec.horizon
    train_scaled, train_data, validation_data = _window_datasets(
        train, validation, scaler, spec, params
    )
    precision = resolve_precision(params["precision"])
    logger.info("Training with the %s dtype policy.", precision)
    model = build_model(
        n_timesteps,
        train_scaled.shape[1],
        horizon,
        params["layers"],
        params["learning_rate"],
        precision=precision,
        jit_compile=bool(params["jit_compile"]),
        steps_per_execution=int(params["steps_per_execution"]),
    )
    early_stopping = _early_stopping(params["patience"])
    timer = epoch_timer(count_windows(len(train_scaled), n_timesteps, horizon))
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=int(params["epochs"]),
        callbacks=[early_stopping, timer, step_progress_bar()],
        shuffle=False,  # train_data reshuffles its windows every epoch
        verbose=_keras_verbosity(params["verbose"]),
    )
    history = {key: [float(v) for v in values] for key, values in model.history.history.items()}
    history["samples_per_second"] = timer.samples_per_second
    best = int(np.argmin(history["val_loss"]))
    logger.info(
        "Trained %d epochs, best epoch %d (val_loss %.6g), %.0f samples/s.",
        len(history["loss"]),
        best + 1,
        history["val_loss"][best],
        float(np.median(timer.samples_per_second)),
    )
    return model, history


def epoch_timer(n_samples: int) -> keras.callbacks.Callback:
    """A Keras callback recording training throughput (samples/s) of each epoch."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.samples_per_second: list[float] = []
            self._start = self._end = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._start = self._end = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self._end = time.perf_counter()  # excludes the validation pass

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.samples_per_second.append(n_samples / max(self._end - self._start, 1e-9))

    return EpochTimer()


def step_progress_bar() -> keras.callbacks.Callback:
    """Keras' progress bar with its step clamped to the epoch's batch count: with
    ``steps_per_execution`` > 1 Keras reports the end of the last execution, which can be
    past the end ("16/15", keras-team/keras#20861). Keras then uses it instead of its own."""
    import keras

    class StepProgressBar(keras.callbacks.ProgbarLogger):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            last = (self.target or batch + 1) - 1
            super().on_train_batch_end(min(batch, last), logs)

    return StepProgressBar()


def fine_tune(
    model: KerasModel,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    scaler: Any,
    spec: ModelSpec,
    params: dict[str, Any],
    epochs: int,
    patience: int,
) -> KerasModel:
    """Continue training an already trained network on new rows (early stopping kept)."""
    _, train_data, validation_data = _window_datasets(train, validation, scaler, spec, params)
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=int(epochs),
        callbacks=[_early_stopping(patience)],
        verbose=0,
    )
    return model


def _window_datasets(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    scaler: Any,
    spec: ModelSpec,
    params: dict[str, Any],
) -> tuple[np.ndarray, Any, Any]:
    """The scaled training rows, their shuffled window dataset and the validation one."""
    n_timesteps, horizon, batch_size = spec.n_timesteps, spec.horizon, params["batch_size"]
    train_scaled = scale_table(scaler, train, spec)
    train_data = window_dataset(
        train_scaled, n_timesteps, horizon, batch_size, shuffle=True, seed=params["seed"]
    )
    validation_data = window_dataset(
        scale_table(scaler, validation, spec), n_timesteps, horizon, batch_size
    )
    return train_scaled, train_data, validation_data


def _early_stopping(patience: int) -> keras.callbacks.Callback:
    """Stop when validation loss has not improved for ``patience`` epochs; keep the best."""
    import keras

    return keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=int(patience), restore_best_weights=True, start_from_epoch=0
    )


def _keras_verbosity(verbose: str | int) -> int:
    """Keras' ``verbose``: "auto" is the progress bar (1) on a terminal and one line per
    epoch (2) in a log file or pipe, where a bar's carriage returns are unreadable."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(verbose)
