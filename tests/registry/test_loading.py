"""Loading a registered forecaster for the inference pipeline: the scaler built with this
project's trusted types, whatever its MLmodel file trusts, and a damaged file named with
its registered model and version."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import MinMaxScaler

from cryptopythia.registry.loading import load_forecaster

from support.mlflow_store import empty_mlflow_store

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


def register(tmp_path: Path, scaler, trusted: list[str] | None = None) -> Path:
    """btc_forecaster v1 (a tiny network) and btc_scaler v1 in a sqlite store under
    ``tmp_path``; returns the artifact root."""
    import mlflow.sklearn
    import mlflow.tensorflow

    shutil.copy(empty_mlflow_store(), tmp_path / "mlflow.db")  # no migrations per test
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    root = tmp_path / "artifacts"
    mlflow.set_experiment(
        experiment_id=MlflowClient().create_experiment("loading", artifact_location=root.as_uri())
    )
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
    return root


def scaler() -> MinMaxScaler:
    return MinMaxScaler().fit(pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=list("abc")))


@pytest.fixture(autouse=True)
def tracking_uri():
    previous = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(previous)


def test_a_registered_pair_loads(tmp_path):
    register(tmp_path, scaler())
    forecaster, info = load_forecaster(INFERENCE, REGISTRY)
    assert isinstance(forecaster.scaler, MinMaxScaler) and info["scaler_version"] == "1"


def test_a_scaler_trusting_another_type_in_its_own_mlmodel_is_refused(tmp_path):
    foreign = scaler()
    foreign.extra = LinearRegression()
    # its MLmodel file's skops_trusted_types lists the type: MLflow would build it
    register(tmp_path, foreign, trusted=["sklearn.linear_model._base.LinearRegression"])
    with pytest.raises(
        ValueError,
        match=r"btc_scaler v1 .*holds the type\(s\) \['sklearn.linear_model._base."
        r"LinearRegression'\].*register",
    ):
        load_forecaster(INFERENCE, REGISTRY)


def test_an_emptied_network_file_names_the_file_and_the_version(tmp_path):
    root = register(tmp_path, scaler())
    (keras_file,) = list(root.rglob("*.keras"))
    keras_file.write_bytes(b"")
    with pytest.raises(
        ValueError, match=rf"btc_forecaster v1 .*{keras_file.name} is empty \(0 bytes\).*register"
    ):
        load_forecaster(INFERENCE, REGISTRY)


def test_a_missing_scaler_file_names_the_file_and_the_version(tmp_path):
    root = register(tmp_path, scaler())
    (skops_file,) = list(root.rglob("*.skops"))
    skops_file.unlink()
    with pytest.raises(ValueError, match=rf"btc_scaler v1 .*{skops_file.name} is missing"):
        load_forecaster(INFERENCE, REGISTRY)
