"""The window spec: everything needed to rebuild the model table and its windows from gold
(training, inference, the backtest and the served model build it the same way). Typed and
frozen, so no step can change it after the table is made; stored as a plain dict (the
registered network's MLflow metadata, the window_spec artifact, the served model's config)
with ``to_dict`` and read back with ``from_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .choices import Inputs, Scaler, Target


@dataclass(frozen=True)
class ModelSpec:
    """The model table's and windows' shape: window length, horizon, target, inputs and
    the columns the scaler was fitted on."""

    n_timesteps: int  # candles in one window
    horizon: int  # candles the network predicts at once
    target: Target  # what the network predicts (model.targets)
    target_column: str  # the model table's column holding it
    inputs: Inputs  # gold's columns made scale-free, or raw levels (model.inputs)
    gold_columns: tuple[str, ...]  # the gold columns the inputs are made from
    units: dict[str, str]  # each gold column's unit (features.column_units)
    volume_window: int  # rows of the rolling volume mean of scale-free volume inputs
    features: tuple[str, ...]  # the network's input columns
    scaler_columns: tuple[str, ...]  # the scaler's columns: the inputs, then the target
    interval: str  # the candles' Binance interval, e.g. "1d"
    scaler: Scaler  # the scaler's kind (model.scaling.SCALERS)

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON/YAML-able values (lists, not tuples): MLflow writes the
        registered network's metadata with yaml.safe_dump."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> ModelSpec:
        """The spec stored as a dict, among other keys (a registered network's metadata
        also holds its shrinkage, intervals...: ignored). Every key has been stored since
        the first forecaster that can still be loaded (no defaults); a missing one is
        named."""
        names = [field.name for field in fields(cls)]
        missing = [name for name in names if name not in stored]
        if missing:
            raise ValueError(
                f"The stored window spec lacks {missing}: it was not written by this "
                "project's training (train again: `kedro run --pipelines training`)."
            )
        values = {name: stored[name] for name in names}
        return cls(
            **{
                **values,
                "n_timesteps": int(values["n_timesteps"]),
                "horizon": int(values["horizon"]),
                "volume_window": int(values["volume_window"]),
                "gold_columns": tuple(values["gold_columns"]),
                "units": dict(values["units"]),
                "features": tuple(values["features"]),
                "scaler_columns": tuple(values["scaler_columns"]),
            }
        )
