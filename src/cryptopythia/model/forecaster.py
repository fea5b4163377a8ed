"""Multi-step forecasts from candles: the one code path behind `kedro run --pipeline
inference`, the registered pyfunc, `mlflow models serve` and the backtest.

The network predicts ``horizon`` steps directly (its Dense(horizon) head); each predicted
move from the last close is shrunk towards naive persistence by the step's weight
(``shrinkage``). A forecast further out is recursive: the shrunk closes are appended as
synthetic candles, the gold features are recomputed from the extended candles with
``build_gold``, and the next ``horizon`` steps are predicted from the newest window
(synthetic candles have no intra-candle range: volatility and volume features calm down
the further out, and errors compound). Intervals: see ``model.intervals``; the quantiles
come from replaying the same network over the recent candles of the input (in one pass
over the series, ``model.replay``; not at all when every shrinkage weight is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..candles import interval_frequency
from ..features import build_gold, check_parameters
from .intervals import adaptive_quantile_grid, normalised_scores
from .quantiles import QuantileFunction, coverage_grid, monotone_radii, quantile_column
from .replay import series_predictions
from .scaling import inverse_target, scale_table
from .shrinkage import shrink
from .spec import ModelSpec
from .table import model_table
from .targets import target_to_close
from .volatility import lookback, volatility_paths

# The candle columns a forecast reads (and a served request sends).
CANDLE_INPUT_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


@dataclass
class Forecaster:
    """A trained network with everything needed to turn candles into USD forecasts."""

    model: Any  # keras.Model
    scaler: Any
    spec: ModelSpec  # the modelling window spec: n_timesteps, horizon, target, inputs...
    feature_params: dict[str, Any]  # feature_engineering parameters used in training
    shrinkage: list[float]  # per step, the weight of the network's move (0: naive)
    intervals: dict[str, Any]  # modelling.intervals: coverage, volatility, conformal settings
    # the volatility model's fitted parameters (model.volatility; None for ewma)
    volatility_params: dict[str, Any] | None

    @property
    def interval(self) -> str:
        """The Binance interval of the candles it was trained on (the spec's)."""
        return self.spec.interval

    @property
    def replay_origins(self) -> int:
        """Past origins the network is replayed on to calibrate the current intervals."""
        return int(self.intervals["calibration_window"]) + int(self.intervals["adaptation_origins"])

    @property
    def min_candles(self) -> int:
        """Candles needed: the features' warm-up, then enough rows for the replayed origins,
        each with a full window and a full volatility window behind it."""
        warmup = check_parameters(self.feature_params, self.interval)["warmup"]
        volatility = lookback(self.intervals, self.volatility_params)
        behind = max(self.spec.n_timesteps - 1, int(self.intervals["ewma_window"]), volatility)
        return warmup + behind + self.replay_origins + self.spec.horizon + 1

    def to_artifacts(self) -> tuple[Any, Any, dict[str, Any]]:
        """What is stored of it (the registered models, the served model's files): the
        network, the scaler and a JSON/YAML-able metadata dict, read by ``from_artifacts``."""
        metadata = {
            **self.spec.to_dict(),
            "feature_params": self.feature_params,
            "shrinkage": [float(weight) for weight in self.shrinkage],
            "intervals": self.intervals,
            "volatility_params": self.volatility_params,
        }
        return self.model, self.scaler, metadata

    @classmethod
    def from_artifacts(cls, network: Any, scaler: Any, metadata: dict[str, Any]) -> Forecaster:
        """The one way a stored forecaster is rebuilt (registry loading, the served model).
        Older stores: a served model's config kept the spec under "spec"; the volatility
        parameters were "garch" before the volatility models' interface."""
        return cls(
            model=network,
            scaler=scaler,
            spec=ModelSpec.from_dict(metadata.get("spec", metadata)),
            feature_params=metadata["feature_params"],
            shrinkage=[float(weight) for weight in metadata["shrinkage"]],
            intervals=metadata["intervals"],
            volatility_params=metadata.get("volatility_params", metadata.get("garch")),
        )


def assemble_forecaster(
    model: Any,
    scaler: Any,
    spec: ModelSpec,
    shrinkage: list[float],
    feature_params: dict[str, Any],
    intervals: dict[str, Any],
    volatility_params: dict[str, Any] | None,
) -> Forecaster:
    """The trained network with everything inference needs: scaler, spec, features,
    shrinkage weights, interval settings and the volatility model's parameters."""
    return Forecaster(
        model=model,
        scaler=scaler,
        spec=spec,
        feature_params=feature_params,
        shrinkage=shrinkage,
        intervals=intervals,
        volatility_params=volatility_params,
    )


def steps_until(last_open_time: pd.Timestamp, target_date: Any, interval: str) -> int:
    """How many candles open after ``last_open_time`` and no later than ``target_date``."""
    try:
        target = pd.Timestamp(target_date)
    except (ValueError, TypeError):
        target = pd.NaT
    if target is pd.NaT:
        raise ValueError(
            f"inference.target_date={target_date!r} is not a date; use YYYY-MM-DD or an "
            "ISO timestamp, e.g. --params inference.target_date=2026-12-31"
        )
    target = target.tz_localize("UTC") if target.tzinfo is None else target.tz_convert("UTC")
    if target <= last_open_time:
        raise ValueError(
            f"inference.target_date={target_date!r} is not after the last candle "
            f"({last_open_time}); forecasts start with the next candle."
        )
    times = pd.date_range(last_open_time, target, freq=interval_frequency(interval))
    return len(times) - 1


def origin_paths(forecaster: Forecaster, table: pd.DataFrame, n_origins: int) -> np.ndarray:
    """Shrunk USD close paths (n_origins, horizon) forecast from the last ``n_origins`` rows
    of a model table (the last one: its newest row). With every step's weight 0 the paths
    are the last closes, whatever the network says: it is not run."""
    spec = forecaster.spec
    last_close = table["close_usd"].to_numpy(dtype="float64")[-n_origins:]
    if not np.any(forecaster.shrinkage):
        return np.repeat(last_close[:, None], spec.horizon, axis=1)
    # the rows under the last n_origins windows (all of them when fewer)
    rows = table.iloc[-(n_origins + spec.n_timesteps - 1) :]
    raw = series_predictions(
        forecaster.model, scale_table(forecaster.scaler, rows, spec), spec.n_timesteps
    )
    paths = target_to_close(inverse_target(forecaster.scaler, raw), last_close, spec.target)
    return shrink(paths, last_close, np.asarray(forecaster.shrinkage), spec.target)


def interval_quantiles(
    forecaster: Forecaster, table: pd.DataFrame, paths: np.ndarray, steps: int
) -> QuantileFunction:
    """The newest origin's quantile function over 1..steps (``model.quantiles``): per
    network step, the adaptive conformal quantile at every coverage of the grid from the
    scored past origins of ``paths``, times the origin's volatility over 1..steps, made
    monotone across coverages and steps."""
    settings, horizon = forecaster.intervals, forecaster.spec.horizon
    closes = table["close_usd"].to_numpy()
    sigma = volatility_paths(
        table, settings, forecaster.volatility_params, len(paths), max(steps, horizon)
    )
    coverages = coverage_grid([float(c) for c in settings["coverage"]])
    quantiles = np.column_stack(
        [
            adaptive_quantile_grid(
                _scores(paths, closes, sigma[:, step - 1], step),
                coverages,
                float(settings["aci_gamma"]),
                delay=step,
                window=int(settings["calibration_window"]),
            )
            for step in range(1, horizon + 1)
        ]
    )
    radii = monotone_radii(quantiles, sigma[-1], steps)
    return QuantileFunction(coverages, radii, np.asarray(sigma[-1][:steps], dtype="float64"))


def _scores(paths: np.ndarray, closes: np.ndarray, sigma: np.ndarray, step: int) -> np.ndarray:
    """|log(actual / forecast)| / sigma of the origins whose step-``step`` close is known."""
    scored = len(paths) - step  # the last `step` origins' outcomes are not known yet
    actual = closes[len(closes) - len(paths) + step :][:scored]
    return normalised_scores(actual, paths[:scored, step - 1], sigma[:scored])


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


def forecast(
    candles: pd.DataFrame,
    forecaster: Forecaster,
    steps: int,
    quantiles: Sequence[float] = (),
    scales: bool = False,
) -> pd.DataFrame:
    """Close forecasts for the ``steps`` candles after the last one (silver-shaped input),
    with the interval bounds of every coverage and a ``quantile_<level>`` column per level
    of ``quantiles`` (levels in (0, 1); ``model.quantiles``); ``scales`` adds each step's
    ``sigma_log``, the volatility of the log close the bounds are multiples of."""
    return forecast_distribution(candles, forecaster, steps, quantiles, scales)[0]


def forecast_distribution(
    candles: pd.DataFrame,
    forecaster: Forecaster,
    steps: int,
    quantiles: Sequence[float] = (),
    scales: bool = False,
) -> tuple[pd.DataFrame, QuantileFunction]:
    """``forecast``'s table and the quantile function its bounds come from (what the
    Value-at-Risk reads)."""
    if steps < 1:
        raise ValueError(f"A forecast needs at least one step, got {steps}.")
    if len(candles) < forecaster.min_candles:
        raise ValueError(
            f"{len(candles)} candles are too few: the features' warm-up, one window of "
            f"n_timesteps={forecaster.spec.n_timesteps} and the {forecaster.replay_origins} "
            f"recent forecasts that calibrate the intervals: a forecast needs at least "
            f"{forecaster.min_candles}."
        )
    spec, horizon = forecaster.spec, forecaster.spec.horizon
    extended = candles[[*CANDLE_INPUT_COLUMNS, "close_time", "was_filled"]].reset_index(drop=True)
    table = model_table(build_gold(extended, forecaster.feature_params, forecaster.interval), spec)
    paths = origin_paths(forecaster, table, forecaster.replay_origins + horizon + 1)
    function = interval_quantiles(forecaster, table, paths, steps)
    predicted = paths[-1, :steps].tolist()
    volume = float(extended["volume"].iloc[-spec.n_timesteps :].median())
    while len(predicted) < steps:  # recursive beyond the network's horizon
        appended = np.asarray(predicted[len(extended) - len(candles) :])
        extended = pd.concat(
            [extended, _synthetic_candles(extended, appended, forecaster.interval, volume)],
            ignore_index=True,
        )
        gold = build_gold(extended, forecaster.feature_params, forecaster.interval)
        path = origin_paths(forecaster, model_table(gold, spec), 1)[0]
        predicted.extend(path[: steps - len(predicted)].tolist())
    coverages = [float(c) for c in forecaster.intervals["coverage"]]
    table = _forecast_table(candles, predicted, function, coverages, quantiles, forecaster.interval)
    if scales:
        table["sigma_log"] = function.sigma[: len(table)]
    return table, function


def _forecast_table(
    candles: pd.DataFrame,
    predicted: list[float],
    function: QuantileFunction,
    coverages: list[float],
    levels: Sequence[float],
    interval: str,
) -> pd.DataFrame:
    """The forecast rows: time, step, close, the bounds per coverage, close *
    exp(+-radius), and the quantile of each level (``model.quantiles``)."""
    step_length = interval_frequency(interval)
    last = candles["open_time"].iloc[-1]
    steps = np.arange(1, len(predicted) + 1)
    result = pd.DataFrame(
        {"open_time": pd.DatetimeIndex([last + step_length * int(k) for k in steps])}
    )
    result["step"] = steps
    result["forecast_close"] = close = np.asarray(predicted, dtype="float64")
    radii = function.radius(coverages)
    for coverage, radius in sorted(zip(coverages, radii, strict=True)):
        label = f"{round(coverage * 100)}"
        result[f"lower_{label}"] = close * np.exp(-radius)
        result[f"upper_{label}"] = close * np.exp(radius)
    if len(levels):
        moves = function.log_quantiles(levels)
        for level, move in zip(levels, moves, strict=True):
            result[quantile_column(level)] = close * np.exp(move)
    return result
