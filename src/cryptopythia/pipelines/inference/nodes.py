"""Nodes of the inference pipeline: registered model -> forecast to ``target_date``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..modelling.nodes import infer_interval
from .forecasting import Forecaster, forecast, steps_until

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def _model_version(client: MlflowClient, name: str, inference: dict[str, Any]) -> Any:
    version, alias = inference.get("model_version"), inference.get("model_alias")
    try:
        if version is not None:
            return client.get_model_version(name, str(version))
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        wanted = f"version {version}" if version is not None else f"alias '{alias}'"
        try:
            aliases = sorted(client.get_registered_model(name).aliases)
            known = f"it has the aliases {aliases}" if aliases else "it has no alias"
        except MlflowException:
            known = "no such registered model exists yet"
        raise ValueError(
            f"No '{name}' with {wanted} in the Model Registry at {mlflow.get_tracking_uri()} "
            f"({known}). Run `kedro run --pipeline training` first, or choose an existing "
            "one with --params inference.model_alias=<alias> or inference.model_version=<n>."
        ) from error


def load_forecaster(
    inference: dict[str, Any], registry: dict[str, Any]
) -> tuple[Forecaster, dict[str, Any]]:
    """The network (by alias or version) and the scaler registered with it, from the
    Model Registry, with the window and feature configuration stored as its metadata."""
    import mlflow.sklearn
    import mlflow.tensorflow

    client = MlflowClient()
    version = _model_version(client, registry["model_name"], inference)
    model_uri = f"models:/{registry['model_name']}/{version.version}"
    scaler_version = version.tags.get("scaler_version")
    if scaler_version is None:
        raise ValueError(
            f"{registry['model_name']} v{version.version} has no 'scaler_version' tag: it "
            "was not registered by the training pipeline; train again."
        )
    metadata = mlflow.models.get_model_info(model_uri).metadata or {}
    forecaster = Forecaster(
        model=mlflow.tensorflow.load_model(model_uri),
        scaler=mlflow.sklearn.load_model(f"models:/{registry['scaler_name']}/{scaler_version}"),
        spec=metadata,  # the window spec, stored as the model's metadata
        feature_params=metadata["feature_params"],
        interval=metadata["interval"],
        radii=metadata.get("radii", {}),
    )
    info = {
        "model_name": registry["model_name"],
        "model_version": str(version.version),
        "model_alias": "" if inference.get("model_version") is not None
        else str(inference.get("model_alias")),
        "scaler_version": str(scaler_version),
    }
    logger.info("Loaded %s v%s (scaler v%s) from the registry.", info["model_name"],
                info["model_version"], scaler_version)
    return forecaster, info


def forecast_to_target(
    silver: pd.DataFrame, forecaster: Forecaster, info: dict[str, Any], inference: dict[str, Any]
) -> pd.DataFrame:
    """The close of every candle from the next one up to ``target_date`` (or the next
    ``default_steps``), with its intervals and the model version that made it."""
    candles_interval = infer_interval(silver["open_time"])
    if candles_interval != forecaster.interval:
        raise ValueError(
            f"silver holds {candles_interval} candles but {info['model_name']} "
            f"v{info['model_version']} was trained on {forecaster.interval} candles: run "
            "inference in the model's environment (e.g. --env intraday for 4h) or train a "
            f"model on {candles_interval} candles first."
        )
    if inference.get("target_date"):
        steps = steps_until(silver["open_time"].iloc[-1], inference["target_date"],
                            forecaster.interval)
    else:
        steps = int(inference["default_steps"])
    if steps > int(inference["max_horizon"]):
        raise ValueError(
            f"inference.target_date={inference.get('target_date')!r} is {steps} candles after "
            f"the last one ({silver['open_time'].iloc[-1]}), beyond inference.max_horizon="
            f"{inference['max_horizon']}: pick a nearer date or raise max_horizon."
        )
    result = forecast(silver, forecaster, steps)
    for key, value in info.items():
        result[key] = value
    logger.info("Forecast %d candles, %s -> %s; last: %.2f USD.", steps,
                result["open_time"].iloc[0], result["open_time"].iloc[-1],
                result["forecast_close"].iloc[-1])
    return result


def plot_forecast(silver: pd.DataFrame, forecast_table: pd.DataFrame, history: int) -> Figure:
    """Recent closes, the forecast and its intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recent = silver.iloc[-int(history):]
    times = pd.to_datetime(forecast_table["open_time"], utc=True)
    figure, axis = plt.subplots(figsize=(11, 4.5))
    axis.plot(recent["open_time"], recent["close"], color="black", lw=1.2, label="close")
    for coverage, alpha in (("95", 0.15), ("80", 0.3)):
        if f"lower_{coverage}" in forecast_table:
            axis.fill_between(times, forecast_table[f"lower_{coverage}"],
                              forecast_table[f"upper_{coverage}"], alpha=alpha,
                              color="tab:blue", label=f"{coverage}% interval")
    axis.plot(times, forecast_table["forecast_close"], color="tab:blue", lw=1.6,
              label="forecast")
    version = forecast_table["model_version"].iloc[0]
    axis.set_title(f"BTCUSDT close and forecast ({forecast_table['model_name'].iloc[0]} v{version})")
    axis.set_ylabel("USD")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
