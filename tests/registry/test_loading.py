"""Loading a registered forecaster for the inference pipeline: the scaler built with this
project's trusted types, whatever its MLmodel file trusts, and a damaged file named with
its registered model and version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import MinMaxScaler

from cryptopythia.registry.loading import load_forecaster

from support.mlflow_store import temp_mlflow_store

REGISTRY = {"model_name": "btc_forecaster", "scaler_name": "btc_scaler", "champion_alias": "c"}
INFERENCE = {"model_version": 1, "model_alias": "staging"}
METADATA = {  # a registered network's: its window spec (model.spec) and the rest
    "n_timesteps": 2,
    "horizon": 1,
    "target": "close",
    "target_column": "target_close",
    "inputs": "levels",
    "gold_columns": ["a", "b"],
    "units": {"a": "free", "b": "free"},
    "volume_window": 20,
    "features": ["a", "b"],
    "scaler_columns": ["a", "b", "target_close"],
    "interval": "1d",
    "scaler": "minmax",
    "feature_params": {},
    "shrinkage": [0.0],
    "intervals": {},
    "garch": None,
}


@pytest.fixture
def artifacts(tmp_path) -> Iterator[Path]:
    """Each test's own sqlite store (support.mlflow_store); yields its artifact root."""
    with temp_mlflow_store(tmp_path, "loading") as root:
        yield root


def register(scaler, trusted: list[str] | None = None) -> None:
    """btc_forecaster v1 (a tiny network) and btc_scaler v1 in the test's store."""
    import mlflow.sklearn
    import mlflow.tensorflow

    network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with mlflow.start_run():
        model = mlflow.tensorflow.log_model(
            network, name="btc_forecaster", metadata=METADATA, pip_requirements=[]
        )
        logged_scaler = mlflow.sklearn.log_model(
            scaler,
            name="btc_scaler",
            serialization_format="skops",
            skops_trusted_types=trusted,
            pip_requirements=[],  # no inference of the requirements (a subprocess each)
        )
    mlflow.register_model(model.model_uri, "btc_forecaster", tags={"scaler_version": "1"})
    mlflow.register_model(logged_scaler.model_uri, "btc_scaler")


def scaler() -> MinMaxScaler:
    return MinMaxScaler().fit(pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=list("abc")))


def test_a_registered_pair_loads(artifacts):
    register(scaler())
    forecaster, info = load_forecaster(INFERENCE, REGISTRY)
    assert isinstance(forecaster.scaler, MinMaxScaler) and info["scaler_version"] == "1"


def test_a_scaler_trusting_another_type_in_its_own_mlmodel_is_refused(artifacts):
    foreign = scaler()
    foreign.extra = LinearRegression()
    # its MLmodel file's skops_trusted_types lists the type: MLflow would build it
    register(foreign, trusted=["sklearn.linear_model._base.LinearRegression"])
    with pytest.raises(
        ValueError,
        match=r"btc_scaler v1 .*holds the type\(s\) \['sklearn.linear_model._base."
        r"LinearRegression'\].*register",
    ):
        load_forecaster(INFERENCE, REGISTRY)


def test_an_emptied_network_file_names_the_file_and_the_version(artifacts):
    register(scaler())
    (keras_file,) = list(artifacts.rglob("*.keras"))
    keras_file.write_bytes(b"")
    with pytest.raises(
        ValueError, match=rf"btc_forecaster v1 .*{keras_file.name} is empty \(0 bytes\).*register"
    ):
        load_forecaster(INFERENCE, REGISTRY)


def test_a_missing_scaler_file_names_the_file_and_the_version(artifacts):
    register(scaler())
    (skops_file,) = list(artifacts.rglob("*.skops"))
    skops_file.unlink()
    with pytest.raises(ValueError, match=rf"btc_scaler v1 .*{skops_file.name} is missing"):
        load_forecaster(INFERENCE, REGISTRY)
