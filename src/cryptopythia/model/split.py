"""The chronological train / validation / test split of the model table, and the
calibration rows held out of validation; every part must hold one window."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..candles import utc_timestamp

logger = logging.getLogger(__name__)


def part_start(table: pd.DataFrame, value: float | str, end: int, name: str) -> int:
    """Row where a part ending at row ``end`` starts: a fraction of all rows (the last
    ones before ``end``) or the part's first date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 < value < 1:
            raise ValueError(
                f"modelling.split.{name} must be a fraction in (0, 1) or a date, got {value!r}."
            )
        return end - round(len(table) * value)
    return int(table["open_time"].searchsorted(utc_timestamp(value)))


def split_chronologically(
    table: pd.DataFrame, split: dict[str, Any], n_timesteps: int, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train / validation / test in time order (test last); each part must hold one window.

    ``split.test`` and ``split.validation`` are each a fraction of all rows (test the
    last rows, validation the rows just before) or the date the part starts.
    """
    test_start = part_start(table, split["test"], len(table), "test")
    validation_start = part_start(table, split["validation"], test_start, "validation")
    bounds = {
        "train": (0, validation_start),
        "validation": (validation_start, test_start),
        "test": (test_start, len(table)),
    }
    needed = n_timesteps + horizon
    smallest = min(end - start for start, end in bounds.values())
    for name, (start, end) in bounds.items():
        rows = end - start
        if rows < needed:
            raise ValueError(
                f"The {name} part of the chronological split has {max(rows, 0)} rows "
                f"({_describe_range(table, start, end)}) but needs at least n_timesteps + "
                f"horizon = {needed} to hold one window. Change modelling.split "
                f"(now {split}), {_lower_to(smallest, horizon)} or use a longer history."
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


def hold_out_calibration(
    validation: pd.DataFrame, fraction: float, n_timesteps: int, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validation rows split in time order: the first part for early stopping, the last
    ``fraction`` for calibration (shrinkage weights) only, so the weights are fitted on
    windows that no training decision has seen; each part must hold one window."""
    cut = len(validation) - round(len(validation) * float(fraction))
    needed = n_timesteps + horizon
    if min(cut, len(validation) - cut) < needed:
        raise ValueError(
            f"The validation part ({len(validation)} rows) cannot be split into early-stopping "
            f"and calibration parts of at least n_timesteps + horizon = {needed} rows each "
            f"with modelling.shrinkage.calibration_fraction={fraction}. Raise "
            f"modelling.split.validation, {_lower_to(min(cut, len(validation) - cut), horizon)} "
            "or use a longer history."
        )
    early_stopping = validation.iloc[:cut].reset_index(drop=True)
    calibration = validation.iloc[cut:].reset_index(drop=True)
    logger.info(
        "validation: %d rows for early stopping, the last %d for calibrating the shrinkage.",
        len(early_stopping),
        len(calibration),
    )
    return early_stopping, calibration


def _lower_to(rows: int, horizon: int) -> str:
    """How far to lower n_timesteps for a window and its targets to fit in ``rows``."""
    if rows - horizon < 1:
        return "lower modelling.horizon"
    return (
        f"lower modelling.n_timesteps to {rows - horizon} or less (one the Conv1D/MaxPooling1D "
        "stack sees whole: the modelling run's first node names them)"
    )


def _describe_range(table: pd.DataFrame, start: int, end: int) -> str:
    if end <= start:
        return "empty"
    return f"{table['open_time'].iloc[start]} -> {table['open_time'].iloc[end - 1]}"
