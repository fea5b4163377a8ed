"""The served model's files: the Forecaster rebuilt from the pyfunc's artifacts (network,
scaler, config), one forecast run before the first request, and a name for the model
those files belong to (for errors about them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from ..candles import interval_frequency
from ..model.artifacts import ArtifactError, load_network, load_scaler
from ..model.forecaster import Forecaster, forecast


def forecaster_from_artifacts(artifacts: dict[str, str]) -> Forecaster:
    """A Forecaster from the pyfunc's artifact files (network, scaler, config); an
    ArtifactError naming the file that is missing, empty or not what this project wrote."""
    if not os.path.exists(artifacts["config"]):
        raise ArtifactError("its configuration file config.json is missing")
    with open(artifacts["config"]) as file:
        config = json.load(file)
    # skops, not pickle, with this project's own trusted types (model.artifacts)
    scaler = load_scaler(artifacts["scaler"])
    network = load_network(artifacts["network"])
    return Forecaster.from_artifacts(network, scaler, config)  # the limits in it: ignored


def warm_up(forecaster: Forecaster) -> None:
    """One forecast on generated candles when the model loads, so the first request does
    not pay for what a first forecast costs: loading the compiled feature kernels from
    numba's cache (compiling them, ~15 s of CPU, on a machine where no copy of this code
    ran yet: indicators.kernel_cache) and tracing the network's replay at the size every
    request replays."""
    forecast(warm_up_candles(forecaster.interval, forecaster.min_candles), forecaster, 1)


def warm_up_candles(interval: str, rows: int) -> pd.DataFrame:
    """``rows`` silver-shaped candles of a seeded random walk (not market data: only
    forecast through, never stored or scored)."""
    step = interval_frequency(interval)
    moves = np.random.default_rng(0).normal(0.0, 0.02, rows)
    close = 100.0 * np.exp(np.cumsum(moves))
    open_ = np.concatenate(([100.0], close[:-1]))
    # a Monday and a first of the month: on the grid of every interval (1w, 1M too)
    open_time = pd.date_range("2018-01-01", periods=rows, freq=step, tz="UTC")
    return pd.DataFrame(
        {
            "open_time": open_time,
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
            "volume": np.random.default_rng(1).uniform(500.0, 1_500.0, rows),
            "close_time": open_time + step - pd.Timedelta(milliseconds=1),
            "was_filled": False,
        }
    )


def describe_model(artifacts: dict[str, str]) -> str:
    """ "<name> v<version> (logged model <id>, run <id>)" of the pyfunc whose artifact files
    these are, from its MLmodel file and the Model Registry; what is known of it when they
    cannot be read."""
    folder = Path(next(iter(artifacts.values()))).parent.parent  # <model>/artifacts/<file>
    try:
        meta = mlflow.models.Model.load(str(folder))
    except Exception:  # an unreadable MLmodel: the folder is all there is to name
        return f"at {folder}"
    logged = f"logged model {meta.model_id}, run {meta.run_id}"
    name = meta.metadata.get("registered_name") if meta.metadata else None
    try:
        versions = mlflow.MlflowClient().search_model_versions(f"name='{name}'") if name else []
        source = f"models:/{meta.model_id}"  # a version's source: the logged model
        version = next(
            v.version for v in versions if source == v.source or v.model_id == meta.model_id
        )
    except Exception:  # no registry reachable, or not registered: the ids still name it
        return f"{name or 'pyfunc'} ({logged})"
    return f"{name} v{version} ({logged})"
