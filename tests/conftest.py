"""Shared fixtures: a throw-away copy of the project, real Kedro runs, real candles (the
snapshot in data/01_raw/snapshot, always there: no test is skipped for missing data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from support.project import (  # noqa: F401  (re-exported for the tests)
    DAILY_CANDLES,
    FOUR_HOUR_CANDLES,
    PROJECT_ROOT,
    SNAPSHOT,
    copy_project,
    run_kedro,
)


@pytest.fixture
def kedro_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's conf in a temp dir, as the working directory.

    Catalog paths (``data/...``) and the sqlite MLflow store (``mlflow.db``) are
    relative to the working directory, so every run writes inside ``tmp_path``.
    """
    project = copy_project(tmp_path)
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def fake_binance():
    """A running local Binance kline server (see tests/fake_binance.py)."""
    from support.fake_binance import FakeBinance

    server = FakeBinance().start()
    yield server
    server.stop()
