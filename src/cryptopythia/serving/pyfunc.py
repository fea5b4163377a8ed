"""The served model: raw Binance candles in, close forecasts (and intervals) out.

``CandleForecasterModel`` is an ``mlflow.pyfunc.PythonModel`` that carries the network,
its scaler and the feature/window configuration as artifacts, so a client needs
nothing else: `mlflow models serve -m models:/btc_candle_forecaster@staging`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import skops.io
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

import cryptopythia

from ..model.forecaster import Forecaster, forecast, steps_until
from ..model.replay import series_predictions
from .payload import RequestLimits, candles_from_payload, payload_from_candles
from .requirements import pinned

# The conf keys (modelling.registry) that bound what one request may ask and cost.
SERVING_LIMITS = ("max_horizon", "min_candles", "max_candles", "max_gap_candles")


def forecaster_from_artifacts(artifacts: dict[str, str]) -> Forecaster:
    """A Forecaster from the pyfunc's artifact files (network, scaler, config)."""
    import keras

    with open(artifacts["config"]) as file:
        config = json.load(file)
    # skops, not pickle: loading runs no code, and only scikit-learn/numpy types it trusts
    scaler = skops.io.load(artifacts["scaler"])
    return Forecaster(
        model=keras.models.load_model(artifacts["network"], compile=False),
        scaler=scaler,
        spec=config["spec"],
        feature_params=config["feature_params"],
        interval=config["interval"],
        shrinkage=config["shrinkage"],
        intervals=config["intervals"],
        # "garch": the key of the models logged before the volatility models' interface
        volatility_params=config.get("volatility_params", config.get("garch")),
    )


def warm_up(forecaster: Forecaster) -> None:
    """Trace the network's replay at the size every request replays, so the first request
    does not pay for it (nothing to do when every shrinkage weight is 0: it is not run)."""
    if not any(forecaster.shrinkage):
        return
    spec = forecaster.spec
    rows = forecaster.replay_origins + spec["horizon"] + spec["n_timesteps"]
    series_predictions(
        forecaster.model, np.zeros((rows, len(spec["scaler_columns"]))), spec["n_timesteps"]
    )


class CandleForecasterModel(mlflow.pyfunc.PythonModel):
    """Candles (Binance kline columns) -> the next ``steps`` closes, or up to ``target_date``."""

    def load_context(self, context: Any) -> None:
        self.forecaster = forecaster_from_artifacts(context.artifacts)
        with open(context.artifacts["config"]) as file:
            config = json.load(file)
        self.max_horizon = int(config["max_horizon"])
        self.min_candles = max(int(config["min_candles"]), self.forecaster.min_candles)
        self.limits = RequestLimits(
            max_candles=max(int(config["max_candles"]), self.min_candles),
            max_gap_candles=int(config["max_gap_candles"]),
        )
        warm_up(self.forecaster)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        params = params or {}
        try:
            if not isinstance(model_input, pd.DataFrame):
                model_input = pd.DataFrame(model_input)
            candles = candles_from_payload(model_input, self.forecaster.interval, self.limits)
            if len(candles) < self.min_candles:
                raise ValueError(
                    f"{len(candles)} candles are too few: send at least {self.min_candles} "
                    "(the latest ones), so that the indicators' averages have converged "
                    "and the forecast equals the one made from the full history."
                )
            steps = self._steps(candles, params)
            # The latest min_candles are all the forecast needs (equal to the full
            # history's to ~1e-7): the work per step does not grow with the request.
            result = forecast(candles.iloc[-self.min_candles :], self.forecaster, steps)
        except ValueError as error:
            # HTTP 400 from the scoring server, with the reason, never a 500.
            raise MlflowException.invalid_parameter_value(str(error)) from error
        result["open_time"] = result["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return result

    def _steps(self, candles: pd.DataFrame, params: dict[str, Any]) -> int:
        """The candles to forecast: up to ``target_date``, else ``steps`` (default 1),
        a whole number from 1 to max_horizon."""
        target_date = params.get("target_date") or None
        if target_date:
            steps = steps_until(
                candles["open_time"].iloc[-1], target_date, self.forecaster.interval
            )
        else:
            requested = params.get("steps")
            requested = 1 if requested is None or requested == "" else requested
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


def log_candle_forecaster(
    forecaster: Forecaster,
    name: str,
    example_candles: pd.DataFrame,
    limits: dict[str, int],
) -> Any:
    """Log the pyfunc (network, scaler, configuration and this package's code) to the
    active run, with a signature taking candles and the ``steps``/``target_date`` params;
    ``limits``: max_horizon, min_candles, max_candles, max_gap_candles of a request."""
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {
            "network": os.path.join(folder, "network.keras"),
            "scaler": os.path.join(folder, "scaler.skops"),
            "config": os.path.join(folder, "config.json"),
        }
        forecaster.model.save(artifacts["network"])
        skops.io.dump(forecaster.scaler, artifacts["scaler"])
        config = {
            "spec": forecaster.spec,
            "feature_params": forecaster.feature_params,
            "interval": forecaster.interval,
            "shrinkage": forecaster.shrinkage,
            "intervals": forecaster.intervals,
            "volatility_params": forecaster.volatility_params,
            **{key: int(limits[key]) for key in SERVING_LIMITS},
        }
        with open(artifacts["config"], "w") as file:
            json.dump(config, file, indent=2, default=str)
        example = payload_from_candles(
            example_candles.iloc[-max(forecaster.min_candles, int(limits["min_candles"])) :]
        )
        limits_of_example = RequestLimits(len(example), int(limits["max_gap_candles"]))
        output = forecast(
            candles_from_payload(example, forecaster.interval, limits_of_example), forecaster, 1
        )
        output["open_time"] = output["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = infer_signature(example, output, params={"steps": 1, "target_date": ""})
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(Path(__file__).with_name("model_code.py")),  # models-from-code
            artifacts=artifacts,
            signature=signature,
            input_example=(example, {"steps": 1}),  # shown in the model page, checked by MLflow
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
