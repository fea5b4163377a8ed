"""The model table (inputs + target beside the USD close), its parameter checks and the
chronological train / validation / test split."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..candles import interval_of
from .network import PRECISIONS, minimum_timesteps
from .scaling import SCALERS
from .targets import TARGET_KINDS, make_target

logger = logging.getLogger(__name__)

TIMESTAMP_COLUMNS = ("open_time", "close_time")


def check_modelling_params(params: dict[str, Any]) -> None:
    """Reject a configuration the network or the evaluation cannot take, before any work."""
    target = params["target"]
    if target not in TARGET_KINDS:
        raise ValueError(
            f"Unknown modelling.target {target!r}: use one of {', '.join(TARGET_KINDS)}."
        )
    scaler = params["scaler"]
    if scaler not in SCALERS:
        raise ValueError(f"Unknown modelling.scaler {scaler!r}: use one of {', '.join(SCALERS)}.")
    if params["precision"] not in PRECISIONS:
        raise ValueError(
            f"Unknown modelling.precision {params['precision']!r}: use one of "
            f"{', '.join(PRECISIONS)}."
        )
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
    features = select_features(gold, params["features"], params["exclude_features"])
    kind = params["target"]
    target = make_target(gold["close"], kind)
    columns = [*features, target.name]
    table = pd.concat(
        [
            gold[["open_time", "close"]].rename(columns={"close": "close_usd"}),
            gold[features].astype("float64"),
            target,
        ],
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
        "interval": interval_of(gold["open_time"]),
        "scaler": params["scaler"],
    }
    logger.info(
        "Modelling table: %d rows, %d features, target %s, interval %s.",
        len(table),
        len(features),
        kind,
        spec["interval"],
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
    bounds = {
        "train": (0, validation_start),
        "validation": (validation_start, test_start),
        "test": (test_start, len(table)),
    }
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
        logger.info(
            "%s: %d rows, %s -> %s",
            name,
            len(part),
            part["open_time"].iloc[0],
            part["open_time"].iloc[-1],
        )
    return parts  # type: ignore[return-value]


def _describe_range(table: pd.DataFrame, start: int, end: int) -> str:
    if end <= start:
        return "empty"
    return f"{table['open_time'].iloc[start]} -> {table['open_time'].iloc[end - 1]}"
