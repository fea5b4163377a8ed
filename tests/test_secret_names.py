"""Which parameter names the secret guard (hooks.SecretParametersHook) treats as secrets."""

from __future__ import annotations

import pytest

from cryptopythia.hooks import looks_secret


@pytest.mark.parametrize(
    "name",
    [
        "data_engineering.api_key",
        "data_engineering.api-key",
        "data_engineering.apiKey",
        "data_engineering.API_KEY",
        "data_engineering.access_key",
        "binance.secret_key",
        "binance.passphrase",
        "modelling.mlflow_token",
        "auth.token",
        "db.password",
        "db.passwd",
        "db.PASSWORD",
        "aws.secret_access_key",
        "client_secret",
        "secrets.binance",
        "ssh.private_key",
        "ssh.privateKey",
        "gcp.credentials",
        "s3.key",
    ],
)
def test_secret_names_in_every_common_spelling_are_caught(name):
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "modelling.registry.model_name",
        "data_engineering.symbol",
        "modelling.epochs",
        "backtest.gate.max_ratio_to_naive",
        "data_engineering.lock_timeout_seconds",
        "pairs.registry_names.scaler_name",
        "modelling.keyword_window",
        "monkey.count",
    ],
)
def test_ordinary_names_pass(name):
    assert not looks_secret(name)
