"""Moving an alias across the network, its scaler and its pyfunc: all or none."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.registry.aliases import move_alias, repair_split_alias, split_alias


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


NAMES = {"model": "net", "scaler": "scaler", "serving": "served"}


@pytest.fixture
def forecasters(client, tmp_path):
    """Two registered forecasters (v1, v2 of each model), cross-referenced by tags as
    training registers them, both aliases on v1."""
    client.create_registered_model("served")
    for version in ("1", "2"):
        client.create_model_version("served", source=str(tmp_path / "served"))
        client.set_model_version_tag("net", version, "scaler_version", version)
        client.set_model_version_tag("net", version, "serving_version", version)
        client.set_model_version_tag("served", version, "model_version", version)
    for alias in ("staging", "champion"):
        move_alias(client, {"net": "1", "scaler": "1", "served": "1"}, alias)
    return client


def aliases_of(client, alias):
    return [int(client.get_model_version_by_alias(n, alias).version) for n in NAMES.values()]


def test_a_move_cut_short_is_detected_and_completed(forecasters):
    client = forecasters
    assert split_alias(client, NAMES, "staging") is None
    client.set_registered_model_alias("net", "staging", "2")  # killed after the first move
    assert (
        split_alias(client, NAMES, "staging")
        == "net@staging = v2, scaler@staging = v1, served@staging = v1"
    )
    assert repair_split_alias(client, NAMES, "staging")
    assert aliases_of(client, "staging") == [2, 2, 2]
    assert aliases_of(client, "champion") == [1, 1, 1]  # the other alias untouched
    assert not repair_split_alias(client, NAMES, "staging")  # nothing left to repair


def test_a_split_without_the_network_alias_follows_the_served_model(forecasters):
    client = forecasters
    client.delete_registered_model_alias("net", "champion")
    client.set_registered_model_alias("served", "champion", "2")
    assert "net@champion = none" in split_alias(client, NAMES, "champion")
    assert repair_split_alias(client, NAMES, "champion")
    assert aliases_of(client, "champion") == [2, 2, 2]
