"""Typed schemas of the pipelines' parameters, one per section (``SCHEMAS``), that
``cryptopythia.parameters`` checks before a run starts. Keys not listed here pass
unchecked (their nodes check them); feature_engineering has its own checks
(features.parameters). The allowed values of a choice are the ``Literal`` aliases of the
lowest layer that uses them (``model.choices``, ``backtest.origins``): written once,
checked here only."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .backtest.origins import Retrain, Window
from .candles import utc_timestamp
from .model.choices import (
    Econometric,
    Inputs,
    Precision,
    RangeEstimator,
    Scaler,
    Target,
    Volatility,
)

PositiveInt = Field(ge=1)


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False)


def _is_date(value: Any) -> bool:
    return not pd.isna(utc_timestamp(value))


class Split(_Section):
    validation: float | str
    test: float | str

    @field_validator("validation", "test")
    @classmethod
    def fraction_or_date(cls, value: float | str) -> float | str:
        if isinstance(value, float | int) and not isinstance(value, bool):
            if not 0 < value < 1:
                raise ValueError("a fraction of the rows must be between 0 and 1 (e.g. 0.15)")
            return value
        if not _is_date(value):
            raise ValueError("must be a fraction (0.15) or the date the part starts (2024-01-01)")
        return value


class NetworkVolatility(_Section):
    """The network's volatility correction (model.volatility_network) of ``base``."""

    base: Econometric
    n_timesteps: int = Field(ge=2)
    layers: dict[str, Any]
    loss: Literal["gaussian_nll", "mse"]
    learning_rate: float = Field(gt=0)
    epochs: int = PositiveInt
    batch_size: int = PositiveInt
    patience: int = Field(ge=0)
    validation_fraction: float = Field(gt=0, lt=1)
    calibration_fraction: float = Field(gt=0, lt=1)
    min_t_statistic: float = Field(ge=0)
    seed: int

    @model_validator(mode="after")
    def parts_leave_training_rows(self) -> NetworkVolatility:
        if self.validation_fraction + self.calibration_fraction >= 0.9:
            raise ValueError(
                "validation_fraction + calibration_fraction must leave at least 10% of the "
                "rows to train on (e.g. 0.15 and 0.25)"
            )
        return self


class Intervals(_Section):
    coverage: list[float] = Field(min_length=1)
    volatility: Volatility  # cryptopythia.model.volatility.MODELS maps them
    ewma_decay: float = Field(gt=0, lt=1)
    ewma_window: int = PositiveInt
    volatility_refit_every: int = PositiveInt
    volatility_fit_rows: int | None = Field(ge=100)
    har_lags: list[int] = Field(min_length=1)
    har_range_estimator: RangeEstimator
    har_wick_bound: float = Field(gt=0, lt=1)
    har_floor: float = Field(gt=0, lt=1)
    network: NetworkVolatility
    calibration_window: int = PositiveInt
    adaptation_origins: int = Field(ge=0)
    aci_gamma: float = Field(ge=0, lt=1)

    @field_validator("coverage")
    @classmethod
    def levels(cls, value: list[float]) -> list[float]:
        if not all(0 < level < 1 for level in value):
            raise ValueError("every coverage must be between 0 and 1 (e.g. [0.8, 0.95])")
        return value

    @field_validator("har_lags")
    @classmethod
    def increasing_lags(cls, value: list[int]) -> list[int]:
        if value[0] < 1 or any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("HAR lags are increasing candle counts from 1 (e.g. [1, 5, 22])")
        return value


class Shrinkage(_Section):
    enabled: bool
    min_t_statistic: float = Field(ge=0)
    calibration_fraction: float = Field(gt=0, lt=1)


class DataEngineering(_Section):
    dump_max_bytes: int = PositiveInt


class Registry(_Section):
    """The Model Registry and what one served request may ask and cost."""

    max_horizon: int = PositiveInt
    min_candles: int = PositiveInt
    max_candles: int = PositiveInt
    max_gap_candles: int = Field(ge=0)
    max_request_rows: int = PositiveInt
    max_quantiles: int = PositiveInt

    @model_validator(mode="after")
    def rows_hold_the_candles(self) -> Registry:
        if not self.min_candles <= self.max_candles <= self.max_request_rows:
            raise ValueError(
                f"min_candles={self.min_candles} <= max_candles={self.max_candles} <= "
                f"max_request_rows={self.max_request_rows} must hold: a request must be "
                "able to send the candles it needs"
            )
        return self


class Modelling(_Section):
    inputs: Inputs
    target: Target
    horizon: int = PositiveInt
    n_timesteps: int = Field(ge=2)
    split: Split
    scaler: Scaler
    epochs: int = PositiveInt
    batch_size: int = PositiveInt
    learning_rate: float = Field(gt=0)
    patience: int = Field(ge=0)
    seed: int
    precision: Precision
    steps_per_execution: int = PositiveInt
    verbose: Literal["auto", 0, 1, 2]
    prediction_batch_size: int = PositiveInt
    shrinkage: Shrinkage
    intervals: Intervals
    registry: Registry


class Inference(_Section):
    model_alias: str = Field(min_length=1)
    model_version: int | None = Field(default=None, ge=1)
    target_date: str | None
    default_steps: int = PositiveInt
    max_horizon: int = PositiveInt
    quantiles: list[float] = Field(default_factory=list)
    risk_levels: list[float] = Field(default_factory=list)

    @field_validator("quantiles")
    @classmethod
    def quantile_levels(cls, value: list[float]) -> list[float]:
        if not all(0 < level < 1 for level in value) or len(set(value)) != len(value):
            raise ValueError("quantile levels are distinct numbers between 0 and 1")
        return value

    @field_validator("risk_levels")
    @classmethod
    def confidence_levels(cls, value: list[float]) -> list[float]:
        if not all(0.5 < level < 1 for level in value):
            raise ValueError("VaR/ES confidence levels are between 0.5 and 1 (e.g. 0.95)")
        return value

    @field_validator("target_date", mode="before")
    @classmethod
    def date_or_none(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not _is_date(value):
            raise ValueError("must be a date (YYYY-MM-DD) or an ISO timestamp, or null")
        return str(value)


class Scoring(_Section):
    """The quantile levels of the backtest's proper scores."""

    crps_levels: int = Field(ge=2)
    pinball_levels: list[float] = Field(min_length=1)
    var_levels: list[float] = Field(min_length=1)

    @field_validator("pinball_levels", "var_levels")
    @classmethod
    def levels(cls, value: list[float]) -> list[float]:
        if not all(0 < level < 1 for level in value):
            raise ValueError("quantile levels are between 0 and 1 (e.g. [0.01, 0.05])")
        return value


class Backtest(_Section):
    n_origins: int = PositiveInt
    origin_step: int = PositiveInt
    refit_every: int = PositiveInt
    horizon: int = PositiveInt
    window: Window
    retrain: Retrain
    epochs: int | None = Field(default=None, ge=1)
    validation_fraction: float = Field(gt=0, lt=1)
    scoring: Scoring


class StatusLimits(_Section):
    coverage_p_value: float = Field(gt=0, lt=1)
    interval_score_ratio: float = Field(gt=0)


class MonitorStatus(_Section):
    step: int = PositiveInt
    window: int = Field(ge=2)
    min_origins: int = PositiveInt
    warn: StatusLimits
    alarm: StatusLimits


class Monitor(_Section):
    windows: list[int] = Field(min_length=1)
    status: MonitorStatus
    demote_on_alarm: bool

    @model_validator(mode="after")
    def judged_window_is_scored(self) -> Monitor:
        if self.status.window not in self.windows:
            raise ValueError(
                f"status.window={self.status.window} must be one of windows={self.windows}: "
                "the status is judged on a scored window"
            )
        return self


class Replay(_Section):
    start: str
    end: str

    @field_validator("start", "end", mode="before")
    @classmethod
    def a_date(cls, value: Any) -> str:
        if value is None or not _is_date(value):
            raise ValueError(
                "must be a date (YYYY-MM-DD): --params replay.start=2025-01-01,replay.end=2025-07-09"
            )
        return str(value)


SCHEMAS: dict[str, type[BaseModel]] = {
    "data_engineering": DataEngineering,
    "modelling": Modelling,
    "inference": Inference,
    "backtest": Backtest,
    "monitor": Monitor,
    "replay": Replay,
}
