"""Nodes of the modelling pipeline: gold -> windows -> Conv1D+LSTM -> forecasts in USD.

Every function here is pure (no file, network or MLflow I/O) so that the inference
pipeline and the served pyfunc can reuse the same windowing, scaling and
target <-> close conversions. MLflow side effects live in ``registry.py``.
TensorFlow/Keras is imported inside the functions that need it, so that listing or
running the other pipelines does not pay for importing it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import clone
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from ...forecast_statistics import conformal_log_radius, forecast_scores

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import tensorflow as tf

# A keras.Model. Node signatures must resolve at run time (Kedro reads their type
# hints) while Keras is only imported when needed: TensorFlow takes seconds to load.
KerasModel = Any

logger = logging.getLogger(__name__)

TIMESTAMP_COLUMNS = ("open_time", "close_time")
TARGET_KINDS = ("close", "diff", "log_return")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
SCALERS = {"minmax": MinMaxScaler, "standard": StandardScaler, "robust": RobustScaler}


# --------------------------------------------------------------------------- checks


def conv_output_length(n_timesteps: int, layers: dict[str, Any]) -> int:
    """Length of the sequence the conv/pool stack hands to the first LSTM."""
    length = n_timesteps
    padding = layers.get("padding", "valid")
    for kernel, pool in zip(layers["conv_kernel_sizes"], layers["pool_sizes"]):
        if padding == "valid":
            length = length - kernel + 1
        if length < 1:
            return 0
        length = length // pool  # MaxPooling1D, padding "valid", strides = pool size
        if length < 1:
            return 0
    return length


def minimum_timesteps(layers: dict[str, Any]) -> int:
    """The shortest window the configured conv/pool stack can take (>= 1 step left)."""
    n_timesteps = 1
    while conv_output_length(n_timesteps, layers) < 1:
        n_timesteps += 1
    return n_timesteps


def check_modelling_params(params: dict[str, Any]) -> None:
    """Reject a configuration the network or the evaluation cannot take, before any work."""
    target = params["target"]
    if target not in TARGET_KINDS:
        raise ValueError(
            f"Unknown modelling.target {target!r}: use one of {', '.join(TARGET_KINDS)}."
        )
    scaler = params.get("scaler", "minmax")
    if scaler not in SCALERS:
        raise ValueError(
            f"Unknown modelling.scaler {scaler!r}: use one of {', '.join(SCALERS)}."
        )
    if params.get("precision", "float32") not in PRECISIONS:
        raise ValueError(
            f"Unknown modelling.precision {params['precision']!r}: use one of "
            f"{', '.join(PRECISIONS)}."
        )
    layers = params["layers"]
    counts = {
        key: len(layers[key])
        for key in ("conv_filters", "conv_kernel_sizes", "pool_sizes")
    }
    if len(set(counts.values())) != 1:
        raise ValueError(
            "modelling.layers.conv_filters, conv_kernel_sizes and pool_sizes must have "
            f"the same length (one entry per Conv1D+MaxPooling1D block), got {counts}."
        )
    if not layers["lstm_units"]:
        raise ValueError("modelling.layers.lstm_units needs at least one LSTM layer.")
    if layers.get("padding", "valid") not in ("valid", "same"):
        raise ValueError("modelling.layers.padding must be 'valid' or 'same'.")
    horizon, n_timesteps = params["horizon"], params["n_timesteps"]
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"modelling.horizon must be an integer >= 1, got {horizon!r}.")
    minimum = minimum_timesteps(layers)
    if n_timesteps < minimum:
        raise ValueError(
            f"modelling.n_timesteps={n_timesteps} is too short for the configured "
            f"Conv1D/MaxPooling1D stack (kernels {list(layers['conv_kernel_sizes'])}, "
            f"pools {list(layers['pool_sizes'])}, padding "
            f"{layers.get('padding', 'valid')!r}): the minimum n_timesteps is {minimum}. "
            f"Use e.g. --params modelling.n_timesteps={minimum}, or fewer/smaller layers."
        )


# ------------------------------------------------------------------------- targets


def target_column(kind: str) -> str:
    """Name of the column holding what the network predicts."""
    return f"target_{kind}"


def make_target(close: pd.Series, kind: str) -> pd.Series:
    """The series the network predicts, from the close: level, difference or log return.

    The value at row t only uses closes <= t (the first row of diff/log_return is NaN).
    """
    if kind == "close":
        values = close.astype("float64")
    elif kind == "diff":
        values = close.diff()
    elif kind == "log_return":
        values = np.log(close).diff()
    else:
        raise ValueError(f"Unknown target kind {kind!r}: use one of {TARGET_KINDS}.")
    return values.rename(target_column(kind))


def target_to_close(
    targets: np.ndarray, last_close: np.ndarray, kind: str
) -> np.ndarray:
    """Turn predicted targets for steps t+1..t+h (N, h) back into USD closes (N, h)."""
    targets = np.asarray(targets, dtype="float64")
    last_close = np.asarray(last_close, dtype="float64")[:, None]
    if kind == "close":
        return targets
    if kind == "diff":
        return last_close + np.cumsum(targets, axis=1)
    if kind == "log_return":
        return last_close * np.exp(np.cumsum(targets, axis=1))
    raise ValueError(f"Unknown target kind {kind!r}: use one of {TARGET_KINDS}.")


# ------------------------------------------------------------------ table and split


def select_features(
    gold: pd.DataFrame, features: str | list[str], exclude: list[str] | None = None
) -> list[str]:
    """The input columns: ``"all"`` numeric columns but timestamps and ``exclude``, or an
    explicit list."""
    if isinstance(features, str):
        if features != "all":
            raise ValueError(
                f"modelling.features must be 'all' or a list of gold columns, got {features!r}."
            )
        return [
            column
            for column in gold.columns
            if column not in TIMESTAMP_COLUMNS
            and column not in (exclude or [])
            and pd.api.types.is_numeric_dtype(gold[column])
        ]
    missing = [column for column in features if column not in gold.columns]
    if missing:
        raise ValueError(
            f"modelling.features names columns that gold does not have: {missing}. "
            f"Gold has: {list(gold.columns)}."
        )
    return list(features)


def infer_interval(open_time: pd.Series) -> str:
    """The Binance interval of a table (``1d``, ``4h``, ``1M``...) from its timestamps."""
    from ..data_engineering.klines import interval_of

    return interval_of(open_time)


def prepare_model_table(
    gold: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check the parameters, pick the inputs, add the target column; returns the table and
    the window spec (everything needed to rebuild windows at inference time)."""
    check_modelling_params(params)
    if gold.empty or "close" not in gold.columns:
        raise ValueError(
            "gold is empty or has no 'close' column: run the feature_engineering "
            "pipeline first (kedro run --pipeline training)."
        )
    features = select_features(gold, params["features"], params.get("exclude_features"))
    kind = params["target"]
    target = make_target(gold["close"], kind)
    columns = [*features, target.name]
    table = pd.concat(
        [gold[["open_time", "close"]].rename(columns={"close": "close_usd"}),
         gold[features].astype("float64"), target],
        axis=1,
    )
    needed = params["n_timesteps"] + params["horizon"]
    if len(table) < needed:
        raise ValueError(
            f"gold has {len(table)} rows, fewer than one window: n_timesteps "
            f"({params['n_timesteps']}) + horizon ({params['horizon']}) = {needed}. "
            "Fetch a longer history or lower modelling.n_timesteps."
        )
    spec = {
        "n_timesteps": int(params["n_timesteps"]),
        "horizon": int(params["horizon"]),
        "target": kind,
        "target_column": target.name,
        "features": features,
        "scaler_columns": columns,
        "interval": infer_interval(gold["open_time"]),
        "scaler": params.get("scaler", "minmax"),
    }
    logger.info(
        "Modelling table: %d rows, %d features, target %s, interval %s.",
        len(table), len(features), kind, spec["interval"],
    )
    return table, spec


def _part_start(table: pd.DataFrame, value: float | str, end: int, name: str) -> int:
    """Row where a part ending at row ``end`` starts: a fraction of all rows (the last
    ones before ``end``) or the part's first date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 < value < 1:
            raise ValueError(
                f"modelling.split.{name} must be a fraction in (0, 1) or a date, got {value!r}."
            )
        return end - round(len(table) * value)
    start = pd.Timestamp(value)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    return int(table["open_time"].searchsorted(start))


def split_chronologically(
    table: pd.DataFrame, split: dict[str, Any], n_timesteps: int, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train / validation / test in time order (test last); each part must hold one window.

    ``split.test`` and ``split.validation`` are each a fraction of all rows (test the
    last rows, validation the rows just before) or the date the part starts.
    """
    test_start = _part_start(table, split["test"], len(table), "test")
    validation_start = _part_start(table, split["validation"], test_start, "validation")
    bounds = {"train": (0, validation_start), "validation": (validation_start, test_start),
              "test": (test_start, len(table))}
    needed = n_timesteps + horizon
    for name, (start, end) in bounds.items():
        rows = end - start
        if rows < needed:
            raise ValueError(
                f"The {name} part of the chronological split has {max(rows, 0)} rows "
                f"({_describe_range(table, start, end)}) but needs at least n_timesteps + "
                f"horizon = {needed} to hold one window. Change modelling.split "
                f"(now {split}), lower modelling.n_timesteps or use a longer history."
            )
    parts = tuple(table.iloc[start:end].reset_index(drop=True) for start, end in bounds.values())
    for name, part in zip(bounds, parts):
        logger.info("%s: %d rows, %s -> %s", name, len(part),
                    part["open_time"].iloc[0], part["open_time"].iloc[-1])
    return parts  # type: ignore[return-value]


def _describe_range(table: pd.DataFrame, start: int, end: int) -> str:
    if end <= start:
        return "empty"
    return f"{table['open_time'].iloc[start]} -> {table['open_time'].iloc[end - 1]}"


# -------------------------------------------------------------------------- scaling


def fit_scaler(train: pd.DataFrame, spec: dict[str, Any]) -> Any:
    """Fit the configured scaler on the training rows only (features + target column)."""
    scaler = clone(SCALERS[spec["scaler"]]())
    scaler.fit(train[spec["scaler_columns"]])
    return scaler


def scale_table(scaler: Any, table: pd.DataFrame, spec: dict[str, Any]) -> np.ndarray:
    """The scaled model inputs of a table as float32; the last column is the target.

    The target column is NaN on the first row for diff/log_return; it is never a
    predicted value (no window ends before row 0) and is set to 0 as an input.
    """
    scaled = scaler.transform(table[spec["scaler_columns"]]).astype("float32")
    return np.nan_to_num(scaled, nan=0.0)


def inverse_target(scaler: Any, scaled_targets: np.ndarray) -> np.ndarray:
    """Undo the scaling of predicted targets (N, h) using the scaler's last column."""
    scaled_targets = np.asarray(scaled_targets, dtype="float64")
    n_rows, horizon = scaled_targets.shape
    n_columns = scaler.n_features_in_
    full = np.zeros((n_rows * horizon, n_columns))
    full[:, -1] = scaled_targets.reshape(-1)
    names = getattr(scaler, "feature_names_in_", None)
    frame = pd.DataFrame(full, columns=names) if names is not None else full
    return scaler.inverse_transform(frame)[:, -1].reshape(n_rows, horizon)


# ------------------------------------------------------------------------ windowing


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
    return (
        dataset.batch(batch_size)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


# ---------------------------------------------------------------------------- model


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


def build_model(  # noqa: PLR0913
    n_timesteps: int,
    n_features: int,
    horizon: int,
    layers: dict[str, Any],
    learning_rate: float,
    precision: str = "float32",
    jit_compile: bool = False,
    steps_per_execution: int = 1,
) -> keras.Model:
    """The seed's Conv1D -> MaxPool x4 -> LSTM x2 -> Dense stack, sized by parameters,
    compiled with Adam and the MSE loss.

    ``precision`` is the Keras dtype policy of the hidden layers ("float32" or
    "mixed_bfloat16": bf16 compute, float32 weights); the output layer stays float32.
    """
    import keras

    dropout = float(layers.get("dropout", 0.0))
    inputs = keras.Input(shape=(n_timesteps, n_features), name="window")
    x = inputs
    for filters, kernel, pool in zip(
        layers["conv_filters"], layers["conv_kernel_sizes"], layers["pool_sizes"]
    ):
        x = keras.layers.Conv1D(
            filters, kernel, activation=layers.get("conv_activation", "relu"),
            padding=layers.get("padding", "valid"), dtype=precision,
        )(x)
        x = keras.layers.MaxPooling1D(pool, dtype=precision)(x)
    lstm_units = list(layers["lstm_units"])
    for i, units in enumerate(lstm_units):
        x = keras.layers.LSTM(
            units,
            activation=layers.get("lstm_activation", "tanh"),
            return_sequences=i < len(lstm_units) - 1,
            dtype=precision,
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, dtype=precision)(x)
    for units in layers["dense_units"]:
        x = keras.layers.Dense(
            units, activation=layers.get("dense_activation", "relu"), dtype=precision
        )(x)
    outputs = keras.layers.Dense(horizon, name="targets", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="conv1d_lstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="mse",
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def train_model(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    scaler: Any,
    spec: dict[str, Any],
    params: dict[str, Any],
) -> tuple[KerasModel, dict[str, list[float]]]:
    """Fit the network on the training windows with early stopping on validation loss
    (best weights restored); returns the model and its per-epoch history."""
    import tensorflow as tf  # before keras: MLflow's import hooks expect it
    import keras

    keras.utils.set_random_seed(int(params["seed"]))
    if params.get("deterministic", False):
        tf.config.experimental.enable_op_determinism()
    n_timesteps, horizon, batch_size = spec["n_timesteps"], spec["horizon"], params["batch_size"]
    train_scaled = scale_table(scaler, train, spec)
    train_data = window_dataset(
        train_scaled, n_timesteps, horizon, batch_size, shuffle=True, seed=params["seed"]
    )
    validation_data = window_dataset(
        scale_table(scaler, validation, spec), n_timesteps, horizon, batch_size
    )
    precision = resolve_precision(params.get("precision", "auto"))
    logger.info("Training with the %s dtype policy.", precision)
    model = build_model(
        n_timesteps,
        train_scaled.shape[1],
        horizon,
        params["layers"],
        params["learning_rate"],
        precision=precision,
        jit_compile=bool(params.get("jit_compile", False)),
        steps_per_execution=int(params.get("steps_per_execution", 1)),
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=int(params["patience"]),
        restore_best_weights=True,
        start_from_epoch=0,
    )
    timer = epoch_timer(count_windows(len(train_scaled), n_timesteps, horizon))
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=int(params["epochs"]),
        callbacks=[early_stopping, timer],
        shuffle=False,  # train_data reshuffles its windows every epoch
        verbose=params.get("verbose", "auto"),
    )
    history = {key: [float(v) for v in values] for key, values in model.history.history.items()}
    history["samples_per_second"] = timer.samples_per_second
    best = int(np.argmin(history["val_loss"]))
    logger.info(
        "Trained %d epochs, best epoch %d (val_loss %.6g), %.0f samples/s.",
        len(history["loss"]), best + 1, history["val_loss"][best],
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


# ----------------------------------------------------------------------- evaluation


def predict_closes(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: dict[str, Any]
) -> pd.DataFrame:
    """The model's USD forecasts for every window of a table, beside the actual close
    and the naive forecast (the window's last close)."""
    n_timesteps, horizon = spec["n_timesteps"], spec["horizon"]
    scaled = scale_table(scaler, table, spec)
    windows = window_view(scaled, n_timesteps, horizon)
    raw = model.predict(np.ascontiguousarray(windows), verbose=0, batch_size=256)
    targets = inverse_target(scaler, raw)
    origin = np.arange(len(windows)) + n_timesteps - 1  # last row of each window
    last_close = table["close_usd"].to_numpy()[origin]
    closes = target_to_close(targets, last_close, spec["target"])
    target_row = origin + horizon
    return pd.DataFrame(
        {
            "origin_time": table["open_time"].to_numpy()[origin],
            "target_time": table["open_time"].to_numpy()[target_row],
            "last_close": last_close,
            "actual_close": table["close_usd"].to_numpy()[target_row],
            "predicted_close": closes[:, -1],
            "naive_close": last_close,
            "model_output": raw[:, -1].astype("float64"),
        }
    )


def window_paths(
    model: KerasModel, scaler: Any, table: pd.DataFrame, spec: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and actual USD close paths (n_windows, horizon) of every window of a table."""
    n_timesteps, horizon = spec["n_timesteps"], spec["horizon"]
    windows = window_view(scale_table(scaler, table, spec), n_timesteps, horizon)
    closes = table["close_usd"].to_numpy()
    raw = model.predict(np.ascontiguousarray(windows), verbose=0, batch_size=256)
    last_close = closes[n_timesteps - 1 : n_timesteps - 1 + len(windows)]
    paths = target_to_close(inverse_target(scaler, raw), last_close, spec["target"])
    actual = sliding_window_view(closes[n_timesteps:], horizon)[: len(windows)]
    return paths, actual


def calibrate_intervals(
    model: KerasModel,
    scaler: Any,
    validation: pd.DataFrame,
    spec: dict[str, Any],
    coverage: list[float],
) -> dict[str, list[float]]:
    """Split-conformal radii per horizon step and coverage ("80": [r_1..r_h]) from the
    validation windows: the interval forecast * exp(+-r) covers that share of them."""
    paths, actual = window_paths(model, scaler, validation, spec)
    radii = {
        f"{round(c * 100)}": [
            conformal_log_radius(actual[:, step], paths[:, step], float(c))
            for step in range(spec["horizon"])
        ]
        for c in coverage
    }
    logger.info("Conformal radii on %d validation windows: %s", len(paths),
                {k: [round(r, 4) for r in v] for k, v in radii.items()})
    return radii


def evaluate_forecasts(
    predictions: pd.DataFrame, train: pd.DataFrame, horizon: int
) -> dict[str, Any]:
    """USD metrics of the model and of the naive forecast on the same test rows.

    MASE divides by the in-sample MAE of the naive ``horizon``-step forecast on the
    training closes. The naive forecast never predicts a move, so its directional
    accuracy is ~0; ``up_share`` (share of up moves) is the bar for the model's.
    """
    actual = predictions["actual_close"].to_numpy()
    last = predictions["last_close"].to_numpy()
    train_close = train["close_usd"].to_numpy()
    scale = float(np.mean(np.abs(train_close[horizon:] - train_close[:-horizon])))
    model = forecast_scores(actual, predictions["predicted_close"].to_numpy(), last, scale)
    naive = forecast_scores(actual, predictions["naive_close"].to_numpy(), last, scale)
    metrics: dict[str, Any] = {f"{k}": v for k, v in model.items()}
    metrics.update({f"naive_{k}": v for k, v in naive.items()})
    metrics["rmse_ratio_to_naive"] = model["rmse"] / naive["rmse"]
    metrics["up_share"] = float(np.mean(actual > last))
    metrics["n_test_windows"] = int(len(predictions))
    logger.info(
        "Test (USD, %d windows): RMSE %.2f vs naive %.2f (ratio %.4f), MAE %.2f, "
        "MAPE %.4f, R2 %.4f, directional accuracy %.3f, MASE %.4f.",
        len(predictions), model["rmse"], naive["rmse"], metrics["rmse_ratio_to_naive"],
        model["mae"], model["mape"], model["r2"], model["directional_accuracy"], model["mase"],
    )
    return metrics


def build_report(
    metrics: dict[str, Any],
    history: dict[str, list[float]],
    predictions: pd.DataFrame,
    spec: dict[str, Any],
    precision: str,
) -> dict[str, Any]:
    """metrics.json: test metrics (USD), training summary and what was evaluated."""
    val_loss = history["val_loss"]
    return {
        "test": metrics,
        "training": {
            "epochs_run": len(history["loss"]),
            "best_epoch": int(np.argmin(val_loss)) + 1,
            "best_val_loss": float(min(val_loss)),
            "median_samples_per_second": float(np.median(history["samples_per_second"])),
            "precision": resolve_precision(precision),
        },
        "test_period": {
            "first_target": str(predictions["target_time"].iloc[0]),
            "last_target": str(predictions["target_time"].iloc[-1]),
        },
        "spec": spec,
    }


def report_to_mlflow_metrics(
    report: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Final test and training metrics in MlflowMetricsHistoryDataset's format
    ({name: {value, step}}), logged as ``test.<name>`` and ``training.<name>``."""
    return tuple(  # type: ignore[return-value]
        {
            key: {"value": float(value), "step": 0}
            for key, value in report[part].items()
            if isinstance(value, int | float)
        }
        for part in ("test", "training")
    )


def history_to_mlflow_metrics(history: dict[str, list[float]]) -> dict[str, list[dict[str, float]]]:
    """Per-epoch metrics in MlflowMetricsHistoryDataset's format ({name: [{value, step}]})."""
    return {
        key: [{"value": float(v), "step": step} for step, v in enumerate(values, start=1)]
        for key, values in history.items()
    }


# ---------------------------------------------------------------------------- plots


def plot_loss(history: dict[str, list[float]]) -> Figure:
    """Training and validation loss by epoch (the seed's model_loss_by_epoch.png)."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    epochs = np.arange(1, len(history["loss"]) + 1)
    axes.plot(epochs, history["loss"], label="train")
    axes.plot(epochs, history["val_loss"], label="validation")
    best = int(np.argmin(history["val_loss"])) + 1
    axes.axvline(best, color="grey", linestyle="--", label=f"best epoch ({best})")
    axes.set(title="Model loss by epoch", xlabel="epoch", ylabel="MSE (scaled target)")
    axes.set_yscale("log")
    axes.legend()
    figure.tight_layout()
    return figure


def plot_predictions(predictions: pd.DataFrame, metrics: dict[str, Any]) -> Figure:
    """Predicted vs actual close (USD) on the test split, with the naive forecast."""
    figure = Figure(figsize=(11, 5))
    axes = figure.subplots()
    time_axis = pd.to_datetime(predictions["target_time"])
    axes.plot(time_axis, predictions["actual_close"], label="actual", color="black", lw=1.2)
    axes.plot(time_axis, predictions["predicted_close"], label="model", lw=1)
    axes.plot(time_axis, predictions["naive_close"], label="naive (last close)", lw=0.8,
              alpha=0.7, linestyle=":")
    axes.set(
        title=(
            f"Test split: RMSE {metrics['rmse']:.1f} USD vs naive {metrics['naive_rmse']:.1f} "
            f"(ratio {metrics['rmse_ratio_to_naive']:.3f})"
        ),
        xlabel="date",
        ylabel="close (USD)",
    )
    axes.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
