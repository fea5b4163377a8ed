"""The served model: raw Binance candles in, close forecasts (and intervals) out.

``CandleForecasterModel`` is an ``mlflow.pyfunc.PythonModel`` that carries the network,
its scaler and the feature/window configuration as artifacts, so a client needs
nothing else: `mlflow models serve -m models:/btc_candle_forecaster@staging`.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

import cryptopythia

from ..model.forecaster import Forecaster, forecast, steps_until
from .payload import candles_from_payload, payload_from_candles
from .requirements import pinned


def forecaster_from_artifacts(artifacts: dict[str, str]) -> Forecaster:
    """A Forecaster from the pyfunc's artifact files (network, scaler, config)."""
    import keras

    with open(artifacts["config"]) as file:
        config = json.load(file)
    with open(artifacts["scaler"], "rb") as file:
        scaler = pickle.load(file)  # noqa: S301 - our own artifact
    return Forecaster(
        model=keras.models.load_model(artifacts["network"], compile=False),
        scaler=scaler,
        spec=config["spec"],
        feature_params=config["feature_params"],
        interval=config["interval"],
        shrinkage=config["shrinkage"],
        intervals=config["intervals"],
        garch=config["garch"],
    )


class CandleForecasterModel(mlflow.pyfunc.PythonModel):
    """Candles (Binance kline columns) -> the next ``steps`` closes, or up to ``target_date``."""

    def load_context(self, context: Any) -> None:
        self.forecaster = forecaster_from_artifacts(context.artifacts)
        with open(context.artifacts["config"]) as file:
            config = json.load(file)
        self.max_horizon = int(config["max_horizon"])
        self.min_candles = max(int(config["min_candles"]), self.forecaster.min_candles)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        params = params or {}
        try:
            if not isinstance(model_input, pd.DataFrame):
                model_input = pd.DataFrame(model_input)
            candles = candles_from_payload(model_input, self.forecaster.interval)
            if len(candles) < self.min_candles:
                raise ValueError(
                    f"{len(candles)} candles are too few: send at least {self.min_candles} "
                    "(the latest ones), so that the indicators' averages have converged "
                    "and the forecast equals the one made from the full history."
                )
            target_date = params.get("target_date") or None
            if target_date:
                steps = steps_until(
                    candles["open_time"].iloc[-1], target_date, self.forecaster.interval
                )
            else:
                steps = int(params.get("steps") or 1)
            if not 1 <= steps <= self.max_horizon:
                raise ValueError(
                    f"{steps} steps requested; this model forecasts 1 to max_horizon="
                    f"{self.max_horizon} candles ahead."
                )
            result = forecast(candles, self.forecaster, steps)
        except ValueError as error:
            # HTTP 400 from the scoring server, with the reason, never a 500.
            raise MlflowException.invalid_parameter_value(str(error)) from error
        result["open_time"] = result["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return result


def log_candle_forecaster(
    forecaster: Forecaster,
    name: str,
    example_candles: pd.DataFrame,
    max_horizon: int,
    min_candles: int,
) -> Any:
    """Log the pyfunc (network, scaler, configuration and this package's code) to the
    active run, with a signature taking candles and the ``steps``/``target_date`` params."""
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {
            "network": os.path.join(folder, "network.keras"),
            "scaler": os.path.join(folder, "scaler.pkl"),
            "config": os.path.join(folder, "config.json"),
        }
        forecaster.model.save(artifacts["network"])
        with open(artifacts["scaler"], "wb") as file:
            pickle.dump(forecaster.scaler, file)
        config = {
            "spec": forecaster.spec,
            "feature_params": forecaster.feature_params,
            "interval": forecaster.interval,
            "shrinkage": forecaster.shrinkage,
            "intervals": forecaster.intervals,
            "garch": forecaster.garch,
            "max_horizon": int(max_horizon),
            "min_candles": int(min_candles),
        }
        with open(artifacts["config"], "w") as file:
            json.dump(config, file, indent=2, default=str)
        example = payload_from_candles(
            example_candles.iloc[-max(forecaster.min_candles, int(min_candles)) :]
        )
        output = forecast(candles_from_payload(example, forecaster.interval), forecaster, 1)
        output["open_time"] = output["open_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = infer_signature(example, output, params={"steps": 1, "target_date": ""})
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=CandleForecasterModel(),
            artifacts=artifacts,
            signature=signature,
            code_paths=[str(Path(cryptopythia.__file__).parent)],
            pip_requirements=pinned(
                "mlflow",
                "tensorflow-cpu",
                "keras",
                "scikit-learn",
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
