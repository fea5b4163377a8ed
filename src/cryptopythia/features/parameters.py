"""The ``feature_engineering`` parameters: checked against the families' keys, and turned
into the plan of gold (its feature columns and warm-up) for a candle interval.

Every value comes from conf/base/parameters_feature_engineering.yml (or a --params
override): a missing one is an error, never replaced by a default here.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any, TypedDict

import numpy as np

from ..candles import INTERVALS
from .errors import FeatureConfigError
from .families import CANDLE_UNITS, FAMILIES, Block, Kind, TimeParts, definitions
from .time_features import MONTH_SECONDS, calendar_parts, fourier_periods

logger = logging.getLogger(__name__)

PARAMS_KEY = "feature_engineering"
INTERVAL_KEY = "data_engineering.interval"
KIND_HELP: dict[Kind, str] = {
    "count": "a whole number > 0",
    "counts": "a non-empty list of distinct whole numbers > 0",
    "positive": "a number > 0",
    "positives": "a non-empty list of distinct numbers > 0",
    "flag": "true or false",
}


class FeatureConfig(TypedDict):
    """The checked parameters and the plan of gold, for one interval (``check_parameters``)."""

    params: dict[str, Block]  # every family's checked block (lists as tuples)
    interval: str
    interval_seconds: float
    calendar_parts: list[tuple[str, str]]  # (parameter, column prefix) kept for the interval
    fourier_periods: list[float]  # periods (days) kept for the interval
    columns: list[str]  # gold's feature columns, in order
    units: dict[str, str]  # the unit of every gold column (silver's kept ones included)
    warmup: int  # rows before every feature is defined
    warmup_source: str  # the parameter setting that sets the warm-up


def interval_seconds(interval: str) -> float:
    """Length of one candle, in seconds, of a Binance interval string ("4h", "1d", "1M")."""
    if interval not in INTERVALS:
        raise FeatureConfigError(
            f"parameter {INTERVAL_KEY}={interval!r} is not a Binance interval: use one of "
            f"{', '.join(INTERVALS)} (conf/base/parameters_data_engineering.yml)."
        )
    length = INTERVALS[interval]
    return MONTH_SECONDS if length is None else length.total_seconds()


def _is_kind(kind: str, value: Any) -> bool:
    """Whether ``value`` is of ``kind`` (see ``KIND_HELP``); booleans are not numbers."""
    if kind == "flag":
        return isinstance(value, bool)
    if kind in ("counts", "positives"):
        return (
            isinstance(value, list | tuple)
            and len(value) > 0
            and len(set(value)) == len(value)
            and all(_is_kind(kind[:-1], item) for item in value)
        )
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    if kind == "count":
        return isinstance(value, numbers.Integral) and value > 0
    return math.isfinite(value) and value > 0


def _check_value(path: str, kind: Kind, value: Any) -> Any:
    """Return ``value`` (lists as tuples) if it is of ``kind``, else raise naming ``path``."""
    if not _is_kind(kind, value):
        raise FeatureConfigError(
            f"parameter {PARAMS_KEY}.{path}={value!r} is invalid: it must be "
            f"{KIND_HELP[kind]}. Fix it in conf/base/parameters_feature_engineering.yml "
            "or in the --params override."
        )
    return tuple(value) if kind in ("counts", "positives") else value


def _check_family(family: str, block: Any) -> Block:
    """Validate one family's block: known keys, ``enabled`` flag, values of the right kind."""
    keys = FAMILIES[family].keys
    if not isinstance(block, dict) or "enabled" not in block:
        raise FeatureConfigError(
            f"parameter {PARAMS_KEY}.{family} must be a mapping with 'enabled: true|false'"
            f" (and {', '.join(keys) or 'no other keys'}); got {block!r}."
        )
    unknown = sorted(set(block) - set(keys) - {"enabled"})
    if unknown:
        raise FeatureConfigError(
            f"unknown key(s) {unknown} in parameter {PARAMS_KEY}.{family}; known keys "
            f"are {['enabled', *keys]}. Check the spelling."
        )
    checked = {"enabled": _check_value(f"{family}.enabled", "flag", block["enabled"])}
    for key, kind in keys.items():
        if key in block:
            checked[key] = _check_value(f"{family}.{key}", kind, block[key])
        elif checked["enabled"]:
            raise FeatureConfigError(
                f"parameter {PARAMS_KEY}.{family}.{key} is missing: it must be "
                f"{KIND_HELP[kind]} while {PARAMS_KEY}.{family}.enabled is true."
            )
    return checked


def _check_families(params: Any) -> dict[str, Block]:
    """Every family's block, checked; no family missing or unknown."""
    if not isinstance(params, dict):
        raise FeatureConfigError(
            f"parameter {PARAMS_KEY} must be a mapping of feature families; got {params!r}."
        )
    unknown = sorted(set(params) - set(FAMILIES))
    if unknown:
        raise FeatureConfigError(
            f"unknown feature famil(y/ies) {unknown} in parameter {PARAMS_KEY}; known "
            f"families are {list(FAMILIES)}. Check the spelling."
        )
    missing = [family for family in FAMILIES if family not in params]
    if missing:
        raise FeatureConfigError(
            f"parameter {PARAMS_KEY} lacks the block(s) {missing}: give each "
            "'enabled: false' at least (see conf/base/parameters_feature_engineering.yml)."
        )
    checked = {family: _check_family(family, params[family]) for family in FAMILIES}
    macd = checked["macd"]
    if macd["enabled"] and macd["fast"] >= macd["slow"]:
        raise FeatureConfigError(
            f"parameter {PARAMS_KEY}.macd.fast={macd['fast']} must be smaller than "
            f"{PARAMS_KEY}.macd.slow={macd['slow']}."
        )
    fft = checked["fft"]
    if fft["enabled"] and (fft["window"] < 4 or fft["n_components"] > fft["window"] // 2):
        raise FeatureConfigError(
            f"parameters {PARAMS_KEY}.fft.window={fft['window']} and "
            f"{PARAMS_KEY}.fft.n_components={fft['n_components']} do not fit: the window "
            "must be >= 4 candles and have at least n_components frequencies "
            "(n_components <= window // 2)."
        )
    return checked


def check_parameters(params: dict[str, Any], interval: str) -> FeatureConfig:
    """Validate ``feature_engineering`` params and plan gold's columns and warm-up for ``interval``."""
    checked = _check_families(params)
    seconds = interval_seconds(interval)
    calendar, fourier = checked["calendar"], checked["fourier"]
    time = TimeParts(
        calendar_parts(calendar, seconds) if calendar["enabled"] else [],
        fourier_periods(fourier["periods_days"], seconds) if fourier["enabled"] else [],
    )
    planned = [column for definition in definitions(checked, time) for column in definition.columns]
    plan = {column.name: (column.warmup, f"{PARAMS_KEY}.{column.setting}") for column in planned}
    warmup, source = max(plan.values(), default=(0, "no feature enabled"))
    if not plan:
        logger.warning("Every feature family is disabled: gold will hold silver's columns only.")
    return {
        "params": checked,
        "interval": interval,
        "interval_seconds": seconds,
        "calendar_parts": time.calendar_parts,
        "fourier_periods": time.fourier_periods,
        "columns": list(plan),
        "units": {**CANDLE_UNITS, **{column.name: column.unit for column in planned}},
        "warmup": warmup,
        "warmup_source": source,
    }
