"""What the monitor writes to a real Model Registry (an MLflow sqlite store): the status
tag on a network version and its two partners, and the demotion of an alarmed champion to
the previous one, all three registered models together."""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.registry.aliases import move_alias, record_previous
from cryptopythia.registry.monitoring import STATUS_TAG, demote_alarmed, tag_statuses

from support.mlflow_store import empty_mlflow_store

REGISTRY = {
    "model_name": "btc_forecaster",
    "scaler_name": "btc_scaler",
    "serving_model_name": "btc_candle_forecaster",
    "champion_alias": "champion",
}
NAMES = ("btc_forecaster", "btc_scaler", "btc_candle_forecaster")


@pytest.fixture
def client(tmp_path) -> MlflowClient:
    """Three forecaster sets registered; v1 was champion, then v2 took the alias."""
    shutil.copy(empty_mlflow_store(), tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for name in NAMES:
        client.create_registered_model(name)
        for _ in range(3):
            client.create_model_version(name, source=str(tmp_path / name))
    for version in ("1", "2", "3"):  # the partners of network vN are scaler and served vN
        client.set_model_version_tag(NAMES[0], version, "scaler_version", version)
        client.set_model_version_tag(NAMES[0], version, "serving_version", version)
    for version in ("1", "2"):
        record_previous(client, NAMES[0], version, "champion")
        move_alias(client, dict.fromkeys(NAMES, version), "champion")
    return client


def statuses(version: str, status: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model_name": "btc_forecaster",
                "model_version": version,
                "status": status,
                "reasons": "80% coverage 55.0% (binomial p=0.0004 < 0.01)"
                if status != "ok"
                else "",
            }
        ]
    )


def champions(client: MlflowClient) -> list[str]:
    return [str(client.get_model_version_by_alias(n, "champion").version) for n in NAMES]


def test_an_alarmed_champion_hands_the_alias_back_to_the_previous_one(client, caplog):
    with caplog.at_level(logging.WARNING):
        message = demote_alarmed(client, REGISTRY, statuses("2", "alarm"))
    assert champions(client) == ["1", "1", "1"]
    assert "Demoted btc_forecaster v2" in message and "champion is v1 again" in message
    assert [r.getMessage() for r in caplog.records if "Demoted" in r.getMessage()] == [
        message + "."
    ]


@pytest.mark.parametrize(("version", "status"), [("2", "warn"), ("3", "alarm"), ("2", "ok")])
def test_only_an_alarm_on_the_champion_demotes(client, version, status):
    assert demote_alarmed(client, REGISTRY, statuses(version, status)) is None
    assert champions(client) == ["2", "2", "2"]


def test_a_champion_without_a_previous_one_stays_and_says_so(client):
    move_alias(client, dict.fromkeys(NAMES, "3"), "champion")  # moved by hand: no tag
    message = demote_alarmed(client, REGISTRY, statuses("3", "alarm"))
    assert "no previous champion" in message
    assert champions(client) == ["3", "3", "3"]


def test_the_status_is_tagged_on_the_version_and_its_partners(client, caplog):
    client.delete_model_version(NAMES[0], "3")
    judged = pd.concat([statuses("2", "warn"), statuses("3", "ok")], ignore_index=True)
    with caplog.at_level(logging.WARNING):
        tag_statuses(client, REGISTRY, judged)
    for name in NAMES:
        version = client.get_model_version(name, "2")
        assert version.tags[STATUS_TAG] == "warn"
        assert "80% coverage" in version.tags[f"{STATUS_TAG}_reasons"]
        assert STATUS_TAG not in client.get_model_version(name, "1").tags
    assert "no longer has" in caplog.text  # v3's forecasts are scored, not tagged


def test_a_deleted_previous_champion_leaves_the_alias_and_says_so(client):
    for name in NAMES:
        client.delete_model_version(name, "1")
    message = demote_alarmed(client, REGISTRY, statuses("2", "alarm"))
    assert "no previous champion to return to (v1 was deleted)" in message
    assert champions(client) == ["2", "2", "2"]
