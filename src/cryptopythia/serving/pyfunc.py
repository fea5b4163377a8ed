"""The served model: raw Binance candles in, close forecasts (and intervals) out.

``CandleForecasterModel`` is an ``mlflow.pyfunc.PythonModel`` that carries the network,
its scaler and the feature/window configuration as artifacts, so a client needs
nothing else: `mlflow models serve -m models:/btc_candle_forecaster@staging`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
import skops.io
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema

import cryptopythia

from ..candles import interval_frequency, utc_timestamp
from ..features.errors import FeatureValuesError
from ..model.artifacts import ArtifactError
from ..model.forecaster import Forecaster, forecast, steps_until
from ..model.quantiles import QUANTILE_PREFIX, check_levels
from .model_files import describe_model, forecaster_from_artifacts, warm_up
from .payload import RequestLimits, candles_from_payload, payload_from_candles
from .requirements import pinned

# The conf keys (modelling.registry) that bound what one request may ask and cost.
SERVING_LIMITS = (
    "max_horizon",
    "min_candles",
    "max_candles",
    "max_gap_candles",
    "max_request_rows",
    "max_quantiles",
)
# What a model logged before max_quantiles existed allows.
DEFAULT_MAX_QUANTILES = 99
# The request's params: steps or target_date (one of them, or neither: one step), and
# quantiles (levels in (0, 1): a quantile_<level> column each). No default for steps and
# target_date (None): the model tells "not sent" from a value sent, and refuses both at
# once; MLflow wants a list for a list param: quantiles defaults to none.
PARAMS = ParamSchema(
    [
        ParamSpec("steps", DataType.long, None),
        ParamSpec("target_date", DataType.string, None),
        ParamSpec("quantiles", DataType.double, [], (-1,)),
    ]
)


def params_sent() -> dict[str, Any] | None:
    """The params as the client sent them. MLflow's params schema check keeps the known
    names and drops the others with a warning in the server's log only (mlflow.models.utils
    ._enforce_params_schema), before the model sees them; the names sent are still the
    ``params`` argument of the ``PyFuncModel.predict`` call (the scoring server's and a
    loaded model's entry point) this predict runs under. None when called otherwise."""
    code = mlflow.pyfunc.PyFuncModel.predict.__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            sent = frame.f_locals.get("params")
            return sent if isinstance(sent, dict) else None
        frame = frame.f_back
    return None


class CandleForecasterModel(mlflow.pyfunc.PythonModel):
    """Candles (Binance kline columns) -> the next ``steps`` closes, or up to ``target_date``."""

    def load_context(self, context: Any) -> None:
        try:
            self.forecaster = forecaster_from_artifacts(context.artifacts)
        except ArtifactError as error:
            raise ArtifactError(
                f"The served model {describe_model(context.artifacts)} cannot be loaded: "
                f"{error}. Its files in the artifact store are damaged or were replaced: "
                "register the model again (`kedro run --pipelines training` registers a new "
                "version) or serve another version (models:/<name>/<version>)."
            ) from error
        with open(context.artifacts["config"]) as file:
            config = json.load(file)
        self.max_horizon = int(config["max_horizon"])
        self.max_quantiles = int(config.get("max_quantiles", DEFAULT_MAX_QUANTILES))
        self.min_candles = max(int(config["min_candles"]), self.forecaster.min_candles)
        max_candles = max(int(config["max_candles"]), self.min_candles)
        self.limits = RequestLimits(
            max_request_rows=max(int(config["max_request_rows"]), max_candles),
            min_candles=self.min_candles,
            max_candles=max_candles,
            max_gap_candles=int(config["max_gap_candles"]),
        )
        warm_up(self.forecaster)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        params = params or {}
        try:
            unknown = sorted(set(params_sent() or {}) - {spec.name for spec in PARAMS.params})
            if unknown:
                raise ValueError(
                    f"unknown param(s) {unknown}; this model takes the params "
                    f"{', '.join(spec.name for spec in PARAMS.params)} (steps or "
                    "target_date, or neither for one step; quantiles: a list of levels)."
                )
            levels = check_levels(params.get("quantiles"), self.max_quantiles)
            candles = candles_from_payload(
                table_of(model_input), self.forecaster.interval, self.limits
            )
            steps = self._steps(candles["open_time"].iloc[-1], params)
            # The latest min_candles are all the forecast needs (equal to the full
            # history's to ~1e-7): the work per step does not grow with the request.
            result = forecast(candles.iloc[-self.min_candles :], self.forecaster, steps, levels)
        except FeatureValuesError as error:
            raise MlflowException.invalid_parameter_value(
                f"The candles sent give NaN or infinite values of the features "
                f"{error.columns}: prices too large or too small to compute with? Send "
                "Binance kline prices."
            ) from error
        except ValueError as error:
            # HTTP 400 from the scoring server, with the reason, never a 500.
            raise MlflowException.invalid_parameter_value(str(error)) from error
        result["open_time"] = result["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return result

    def _steps(self, last: pd.Timestamp, params: dict[str, Any]) -> int:
        """The candles to forecast: up to ``target_date``, else ``steps`` (neither: 1),
        a whole number from 1 to max_horizon."""
        requested, target_date = params.get("steps"), params.get("target_date")
        if target_date in (None, ""):
            target_date = None
        if requested is not None and target_date is not None:
            raise ValueError(
                f"both steps={requested!r} and target_date={target_date!r} were sent; send "
                "one: steps (how many candles ahead) or target_date (up to which date)."
            )
        if target_date is not None:
            return self._steps_until(last, target_date)
        requested = 1 if requested is None else requested
        try:
            steps = int(requested)
            whole = float(requested) == steps
        except (TypeError, ValueError):
            whole = False
        if not whole:
            raise ValueError(f"steps={requested!r} is not a whole number of candles.")
        if not 1 <= steps <= self.max_horizon:
            raise ValueError(
                f"steps={steps}: this model forecasts 1 to max_horizon={self.max_horizon} "
                "candles ahead."
            )
        return steps

    def _steps_until(self, last: pd.Timestamp, target_date: Any) -> int:
        """The candles opening after ``last`` and no later than ``target_date``, at most
        max_horizon of them (counted only then: the work does not grow with the date)."""
        target = utc_timestamp(target_date)
        if pd.isna(target):
            raise ValueError(
                f"target_date={target_date!r} is not a date; send YYYY-MM-DD or an ISO "
                'timestamp (UTC), e.g. "params": {"target_date": "2026-12-31"}.'
            )
        shown = f"{last:%Y-%m-%d %H:%M} UTC"
        if target <= last:
            raise ValueError(
                f"target_date={target_date!r} is not after the last candle sent ({shown}); "
                "the forecast starts with the next candle."
            )
        interval = self.forecaster.interval
        grid = pd.date_range(last, periods=self.max_horizon + 2, freq=interval_frequency(interval))
        if target >= grid[-1]:
            latest = grid[-2]
            latest = f"{latest:%Y-%m-%d}" if latest == latest.normalize() else f"{latest}"
            raise ValueError(
                f"target_date={target_date!r} is too far: this model forecasts at most "
                f"max_horizon={self.max_horizon} {interval} candles after the last candle "
                f"sent ({shown}); the latest target_date allowed is {latest} "
                f"(steps={self.max_horizon})."
            )
        return steps_until(last, target, interval)


def table_of(model_input: Any) -> pd.DataFrame:
    """The request as a table; a clear error when it is none (e.g. {"inputs": "hello"})."""
    if isinstance(model_input, pd.DataFrame):
        return model_input
    try:
        return pd.DataFrame(model_input)
    except (ValueError, TypeError) as error:
        raise ValueError(
            "The request is not a table of candles: send "
            '{"dataframe_split": {"columns": ["open_time", "open", "high", "low", "close", '
            '"volume"], "data": [[...], ...]}}.'
        ) from error


def log_candle_forecaster(
    forecaster: Forecaster,
    name: str,
    example_candles: pd.DataFrame,
    limits: dict[str, int],
) -> Any:
    """Log the pyfunc (network, scaler, configuration and this package's code) to the
    active run, with a signature taking candles and the ``steps``/``target_date`` params;
    ``limits``: max_horizon, min_candles, max_candles, max_gap_candles, max_request_rows
    and max_quantiles of a request."""
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {
            "network": os.path.join(folder, "network.keras"),
            "scaler": os.path.join(folder, "scaler.skops"),
            "config": os.path.join(folder, "config.json"),
        }
        network, scaler, metadata = forecaster.to_artifacts()
        network.save(artifacts["network"])
        skops.io.dump(scaler, artifacts["scaler"])
        # Forecaster.from_artifacts reads it back (load_context), beside the limits
        config = {**metadata, **{key: int(limits[key]) for key in SERVING_LIMITS}}
        with open(artifacts["config"], "w") as file:
            json.dump(config, file, indent=2, default=str)
        example = payload_from_candles(
            example_candles.iloc[-max(forecaster.min_candles, int(limits["min_candles"])) :]
        )
        rows = len(example)
        limits_of_example = RequestLimits(rows, rows, rows, int(limits["max_gap_candles"]))
        output = forecast(
            candles_from_payload(example, forecaster.interval, limits_of_example),
            forecaster,
            1,
            [0.05, 0.95],
        )
        output["open_time"] = output["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        # No input schema: MLflow's would cast and check the columns before the model
        # sees them (a fractional open_time truncated over HTTP, a duplicated column
        # reported missing); payload.py checks them and says what is wrong.
        # The quantile_<level> columns are those a request asks for: optional.
        outputs = Schema(
            [
                ColSpec(c.type, c.name, required=not c.name.startswith(QUANTILE_PREFIX))
                for c in infer_signature(example, output).outputs.inputs
            ]
        )
        signature = ModelSignature(outputs=outputs, params=PARAMS)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(Path(__file__).with_name("model_code.py")),  # models-from-code
            artifacts=artifacts,
            signature=signature,
            metadata={"registered_name": name},  # names it when its files are damaged
            # shown in the model page, checked by MLflow
            input_example=(example, {"steps": 1, "quantiles": [0.05, 0.95]}),
            code_paths=[str(Path(cryptopythia.__file__).parent)],
            pip_requirements=pinned(
                "mlflow",
                "tensorflow-cpu",
                "keras",
                "scikit-learn",
                "skops",
                "scipy",
                "pandas",
                "numpy",
                "numba",
                "python-binance",
                "kedro",
                "kedro-datasets",
                "kedro-mlflow",
            ),
        )
