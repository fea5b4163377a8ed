"""The model table (inputs + target beside the USD close) and its parameter checks; the
chronological split is in ``split``."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..candles import interval_of
from .inputs import input_name, scale_free_inputs
from .network import minimum_timesteps, unseen_timesteps
from .spec import ModelSpec
from .split import part_start
from .targets import make_target, target_column

logger = logging.getLogger(__name__)

TIMESTAMP_COLUMNS = ("open_time", "close_time")
RANGE_COLUMNS = ("open", "high", "low")


def check_modelling_params(
    params: dict[str, Any], gold_rows: int | None = None, room: int | None = None
) -> None:
    """Reject a configuration the network or the evaluation cannot take, before any work;
    with ``gold_rows``, a window longer than gold too, suggesting one that fits ``room``
    rows (the smallest part of the split, ``window_room``). The choices (target, scaler,
    precision, inputs) are the schema's to check (``cryptopythia.parameter_schemas``)."""
    layers = params["layers"]
    counts = {key: len(layers[key]) for key in ("conv_filters", "conv_kernel_sizes", "pool_sizes")}
    if len(set(counts.values())) != 1:
        raise ValueError(
            "modelling.layers.conv_filters, conv_kernel_sizes and pool_sizes must have "
            f"the same length (one entry per Conv1D+MaxPooling1D block), got {counts}."
        )
    if not layers["lstm_units"]:
        raise ValueError("modelling.layers.lstm_units needs at least one LSTM layer.")
    if layers["padding"] not in ("valid", "same"):
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
            f"{layers['padding']!r}): the minimum n_timesteps is {minimum}. "
            f"Use e.g. --params modelling.n_timesteps={minimum}, or fewer/smaller layers."
        )
    if gold_rows is not None and n_timesteps + horizon > gold_rows:
        raise ValueError(_too_few_rows(params, gold_rows, gold_rows if room is None else room))
    unseen = unseen_timesteps(n_timesteps, layers)
    if unseen:
        seen = [n for n in range(minimum, n_timesteps + 64) if not unseen_timesteps(n, layers)]
        if room is not None:  # only windows every part of the split can hold
            seen = [n for n in seen if n + horizon <= room]
            if not seen:
                raise ValueError(_too_few_rows(params, gold_rows or room, room))
        nearest = sorted(seen, key=lambda n: (abs(n - n_timesteps), n))[:3]
        choices = ", ".join(str(n) for n in nearest) or "none near it"
        same = " or padding 'same'," if layers["padding"] == "valid" else ""
        raise ValueError(
            f"modelling.n_timesteps={n_timesteps} with padding {layers['padding']!r}: the "
            f"Conv1D/MaxPooling1D stack (kernels {list(layers['conv_kernel_sizes'])}, pools "
            f"{list(layers['pool_sizes'])}) never passes the newest {unseen} candles of a "
            "window on to the LSTM (a MaxPooling1D drops the positions left over when its "
            "input length is not a multiple of its size), so the network would forecast "
            f"from stale candles. Use a window it sees whole ({choices}),{same} e.g. --params "
            f"modelling.n_timesteps={nearest[0] if nearest else minimum}."
        )


def fitting_timesteps(n_rows: int, horizon: int, layers: dict[str, Any]) -> int | None:
    """The longest window the conv/pool stack takes and sees whole whose window and
    ``horizon`` targets fit in ``n_rows`` rows; None if there is none."""
    minimum = minimum_timesteps(layers)
    for n_timesteps in range(n_rows - horizon, minimum - 1, -1):
        if not unseen_timesteps(n_timesteps, layers):
            return n_timesteps
    return None


def window_room(table: pd.DataFrame, params: dict[str, Any]) -> int:
    """The rows of the smallest part that must hold a window in training: train,
    validation's early-stopping and calibration parts, test (``modelling.split``,
    ``modelling.shrinkage.calibration_fraction``); all rows if the split cannot be read
    (its own check names it)."""
    n_rows = len(table)
    try:
        split, fraction = params["split"], float(params["shrinkage"]["calibration_fraction"])
        test_start = part_start(table, split["test"], n_rows, "test")
        validation_start = part_start(table, split["validation"], test_start, "validation")
    except (KeyError, TypeError, ValueError):
        return n_rows
    validation = max(test_start - validation_start, 0)
    cut = validation - round(validation * fraction)
    return max(min(validation_start, cut, validation - cut, n_rows - test_start), 0)


def _too_few_rows(params: dict[str, Any], gold_rows: int, room: int) -> str:
    """Why gold holds no window, with a window length that fits every part of the split."""
    n_timesteps, horizon, layers = params["n_timesteps"], params["horizon"], params["layers"]
    problem = (
        f"gold has {gold_rows} rows, fewer than one window: n_timesteps ({n_timesteps}) + "
        f"horizon ({horizon}) = {n_timesteps + horizon}."
    )
    fit = fitting_timesteps(room, horizon, layers)
    if fit is None:
        return (
            f"{problem} No window the Conv1D/MaxPooling1D stack takes (at least "
            f"{minimum_timesteps(layers)} candles) fits the smallest part of the split "
            f"({room} rows with modelling.split and shrinkage.calibration_fraction): fetch "
            "a longer history, or change modelling.split or modelling.layers."
        )
    return (
        f"{problem} Lower it: the longest window the Conv1D/MaxPooling1D stack sees whole "
        f"that fits the smallest part of the split ({room} rows, with modelling.split and "
        f"shrinkage.calibration_fraction) is {fit}, e.g. --params modelling.n_timesteps={fit}; "
        "or fetch a longer history."
    )


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


def prepare_model_table(
    gold: pd.DataFrame, params: dict[str, Any], units: dict[str, str]
) -> tuple[pd.DataFrame, ModelSpec]:
    """Check the parameters, pick the gold columns, make the network's inputs (scale-free
    or levels, see ``modelling.inputs``) and the target; returns the model table and the
    window spec (everything needed to rebuild the table at inference time)."""
    if gold.empty or "close" not in gold.columns:
        raise ValueError(
            "gold is empty or has no 'close' column: run the feature_engineering "
            "pipeline first (kedro run --pipeline training)."
        )
    check_modelling_params(params, gold_rows=len(gold), room=window_room(gold, params))
    columns = select_features(gold, params["features"], params["exclude_features"])
    unknown = [column for column in columns if column not in units]
    if unknown:
        raise ValueError(
            f"gold columns {unknown} have no unit in the feature_engineering plan: run "
            "feature_engineering with the current parameters first."
        )
    inputs = _input_names(columns, units, params["inputs"])
    spec = ModelSpec(
        n_timesteps=int(params["n_timesteps"]),
        horizon=int(params["horizon"]),
        target=params["target"],
        target_column=target_column(params["target"]),
        inputs=params["inputs"],
        gold_columns=tuple(columns),
        units={column: units[column] for column in columns},
        volume_window=int(params["volume_window"]),
        features=tuple(inputs),
        scaler_columns=(*inputs, target_column(params["target"])),
        interval=interval_of(gold["open_time"]),
        scaler=params["scaler"],
    )
    table = model_table(gold, spec)
    logger.info(
        "Modelling table: %d rows, %d %s inputs, target %s, interval %s.",
        len(table),
        len(inputs),
        spec.inputs,
        spec.target,
        spec.interval,
    )
    return table, spec


def model_table(gold: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """open_time, the USD candle, the network's inputs and the target, per the window spec
    (the one way training, inference, the backtest and the served model build it)."""
    if spec.inputs == "scale_free":
        inputs = scale_free_inputs(gold, list(spec.gold_columns), spec.units, spec.volume_window)
    else:
        inputs = gold[list(spec.features)].astype("float64")
    return pd.concat(
        [
            gold[["open_time"]],
            # the candle in USD: the close is the forecast's anchor; open, high and low (of
            # every real gold) feed the range-based volatility models (model.volatility)
            gold[[c for c in RANGE_COLUMNS if c in gold.columns]].add_suffix("_usd"),
            gold["close"].rename("close_usd"),
            inputs[list(spec.features)],
            make_target(gold["close"], spec.target),
        ],
        axis=1,
    )


def _input_names(columns: list[str], units: dict[str, str], mode: str) -> list[str]:
    """The network's input columns made from the gold ``columns``."""
    if mode == "levels":
        return list(columns)
    names = [input_name(column, units[column]) for column in columns]
    return [name for name in names if name is not None]
