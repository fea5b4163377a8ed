"""The team deployment's defaults: nothing published beyond this host unless asked."""

from __future__ import annotations

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
