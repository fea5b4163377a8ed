"""Multi-step forecasts from candles: the one code path behind `kedro run --pipeline
inference`, the registered pyfunc and `mlflow models serve`.

Design: the network predicts ``horizon`` steps directly (its Dense(horizon) head). A
forecast further out is recursive: the predicted closes are appended as synthetic
candles, the gold features are recomputed from the extended candles with
feature_engineering's own ``build_gold``, and the next ``horizon`` steps are predicted
from the newest window. Synthetic candles open at the previous close, close at the
forecast, have high/low = max/min of the two (no intra-candle range) and the median
volume of the last window: volatility and volume features drift towards calm markets
the further the forecast goes, and errors compound. Prediction intervals widen with
the step (see ``interval_radius``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..candles import interval_frequency
from ..features import build_gold, check_parameters
from .scaling import inverse_target, scale_table
from .targets import make_target, target_to_close

# The candle columns a forecast reads (and a served request sends).
CANDLE_INPUT_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


@dataclass
class Forecaster:
    """A trained network with everything needed to turn candles into USD forecasts."""

    model: Any  # keras.Model
    scaler: Any
    spec: dict[str, Any]  # the modelling window spec: n_timesteps, horizon, target, features...
    feature_params: dict[str, Any]  # feature_engineering parameters used in training
    interval: str
    # Split-conformal radii on |log(actual / forecast)| per step, per coverage ("80": [...]).
    radii: dict[str, list[float]] = field(default_factory=dict)

    @property
    def min_candles(self) -> int:
        """Candles needed for one window after feature_engineering's warm-up."""
        warmup = check_parameters(self.feature_params, self.interval)["warmup"]
        return warmup + self.spec["n_timesteps"] + 1


def steps_until(last_open_time: pd.Timestamp, target_date: Any, interval: str) -> int:
    """How many candles open after ``last_open_time`` and no later than ``target_date``."""
    try:
        target = pd.Timestamp(target_date)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"inference.target_date={target_date!r} is not a date; use YYYY-MM-DD or an "
            "ISO timestamp, e.g. --params inference.target_date=2026-12-31"
        ) from error
    target = target.tz_localize("UTC") if target.tzinfo is None else target.tz_convert("UTC")
    if target <= last_open_time:
        raise ValueError(
            f"inference.target_date={target_date!r} is not after the last candle "
            f"({last_open_time}); forecasts start with the next candle."
        )
    times = pd.date_range(last_open_time, target, freq=interval_frequency(interval))
    return len(times) - 1


def interval_radius(radii: list[float], step: int) -> float:
    """The conformal radius of a step: calibrated up to the network's horizon, then
    widened like a random walk's (sqrt of the step count)."""
    if step <= len(radii):
        return radii[step - 1]
    return radii[-1] * float(np.sqrt(step / len(radii)))


def _model_table(gold: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    target = make_target(gold["close"], spec["target"])
    return pd.concat(
        [
            gold[["open_time"]],
            gold["close"].rename("close_usd"),
            gold[spec["features"]].astype("float64"),
            target,
        ],
        axis=1,
    )


def _synthetic_candles(
    candles: pd.DataFrame, closes: np.ndarray, interval: str, volume: float
) -> pd.DataFrame:
    step = interval_frequency(interval)
    last_open, last_close = candles["open_time"].iloc[-1], candles["close"].iloc[-1]
    opens = np.concatenate([[last_close], closes[:-1]])
    open_time = pd.DatetimeIndex([last_open + step * (k + 1) for k in range(len(closes))])
    return pd.DataFrame(
        {
            "open_time": open_time,
            "open": opens,
            "high": np.maximum(opens, closes),
            "low": np.minimum(opens, closes),
            "close": closes,
            "volume": volume,
            "close_time": open_time + step - pd.Timedelta(milliseconds=1),
            "was_filled": False,
        }
    )


def forecast(candles: pd.DataFrame, forecaster: Forecaster, steps: int) -> pd.DataFrame:
    """Close forecasts for the ``steps`` candles after the last one (silver-shaped input),
    with the interval bounds of every calibrated coverage."""
    if steps < 1:
        raise ValueError(f"A forecast needs at least one step, got {steps}.")
    if len(candles) < forecaster.min_candles:
        raise ValueError(
            f"{len(candles)} candles are too few: feature_engineering's warm-up plus one "
            f"window of n_timesteps={forecaster.spec['n_timesteps']} needs at least "
            f"{forecaster.min_candles}."
        )
    spec, n = forecaster.spec, forecaster.spec["n_timesteps"]
    extended = candles[[*CANDLE_INPUT_COLUMNS, "close_time", "was_filled"]].reset_index(drop=True)
    volume = float(extended["volume"].iloc[-n:].median())
    predicted: list[float] = []
    while len(predicted) < steps:
        table = _model_table(
            build_gold(extended, forecaster.feature_params, forecaster.interval), spec
        )
        window = scale_table(forecaster.scaler, table.iloc[-n:], spec)[None, ...]
        raw = np.asarray(forecaster.model.predict_on_batch(window))
        last_close = table["close_usd"].to_numpy()[-1:]
        path = target_to_close(inverse_target(forecaster.scaler, raw), last_close, spec["target"])[
            0
        ]
        path = path[: steps - len(predicted)]
        predicted.extend(path.tolist())
        extended = pd.concat(
            [extended, _synthetic_candles(extended, path, forecaster.interval, volume)],
            ignore_index=True,
        )
    result = extended.iloc[len(candles) :][["open_time"]].reset_index(drop=True)
    result["step"] = np.arange(1, steps + 1)
    result["forecast_close"] = np.asarray(predicted, dtype="float64")
    for coverage, radii in sorted(forecaster.radii.items()):
        radius = np.array([interval_radius(radii, k) for k in result["step"]])
        result[f"lower_{coverage}"] = result["forecast_close"] * np.exp(-radius)
        result[f"upper_{coverage}"] = result["forecast_close"] * np.exp(radius)
    return result
