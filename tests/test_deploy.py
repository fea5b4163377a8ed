"""The team deployment's defaults: nothing published beyond this host unless asked."""

from __future__ import annotations

import configparser
import re

import yaml

from conftest import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "deploy" / "team" / "docker-compose.yml"


def test_every_published_port_binds_to_localhost_by_default():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published  # the MLflow server's port
    for port in published:
        # "${VAR:-default}" resolved to its default, as docker compose does without .env
        resolved = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(port))
        assert resolved.count(":") == 2 and resolved.startswith("127.0.0.1:"), port


def mlflow_service() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]["mlflow"]


def test_the_team_server_requires_a_login():
    # MLflow's basic-auth app: every request but /health needs a user and password
    service = mlflow_service()
    command = service["command"]
    assert command[command.index("--app-name") + 1] == "basic-auth"
    environment = service["environment"]
    # the admin's name and password, and the CSRF key, come from .env, or the start fails
    for variable in (
        "MLFLOW_AUTH_ADMIN_USERNAME",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    ):
        assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", environment[variable]), variable
    # the users and permissions persist in a volume, read from the shipped basic_auth.ini
    config = environment["MLFLOW_AUTH_CONFIG_PATH"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
    assert (COMPOSE.parent / mounted[config]).is_file()
    ini = configparser.ConfigParser()
    ini.read(COMPOSE.parent / mounted[config])
    database = ini["mlflow"]["database_uri"].removeprefix("sqlite:///")
    assert any(database.startswith(folder + "/") for folder in mounted if folder != config)
    assert "admin_password" not in ini["mlflow"]  # never in a committed file
    assert ini["mlflow"]["default_permission"] in {"READ", "NO_PERMISSIONS"}


def test_env_example_names_every_required_variable():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = (COMPOSE.parent / ".env.example").read_text()
    listed = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert required <= listed, required - listed
