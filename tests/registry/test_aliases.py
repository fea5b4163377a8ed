"""Moving an alias across the network, its scaler and its pyfunc: all or none."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.registry.aliases import move_alias


@pytest.fixture
def client(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for name in ("net", "scaler"):
        client.create_registered_model(name)
        for _ in range(2):
            client.create_model_version(name, source=str(tmp_path / name))
    return client


def test_move_alias_moves_every_model(client):
    move_alias(client, {"net": "2", "scaler": "2"}, "champion")
    assert client.get_model_version_by_alias("net", "champion").version == 2
    assert client.get_model_version_by_alias("scaler", "champion").version == 2


def test_a_failed_move_restores_the_aliases_already_moved(client):
    move_alias(client, {"net": "1", "scaler": "1"}, "champion")
    with pytest.raises(mlflow.exceptions.MlflowException):
        move_alias(client, {"net": "2", "scaler": "2", "missing_model": "1"}, "champion")
    assert client.get_model_version_by_alias("net", "champion").version == 1
    assert client.get_model_version_by_alias("scaler", "champion").version == 1

    with pytest.raises(mlflow.exceptions.MlflowException):
        move_alias(client, {"net": "2", "missing_model": "1"}, "fresh")
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("net", "fresh")  # created, then removed again
