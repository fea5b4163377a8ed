"""Shared fixtures: a throw-away copy of the project, real Kedro runs, real candles."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DAILY_CANDLES = SHARED_DATA / "btcusdt_1d.csv"
FOUR_HOUR_CANDLES = SHARED_DATA / "btcusdt_4h.csv"

needs_shared_data = pytest.mark.skipif(
    not DAILY_CANDLES.exists() or not FOUR_HOUR_CANDLES.exists(),
    reason=f"real Binance candles not found in {SHARED_DATA} (the shared/ folder beside "
    "the repository); these tests read them and are skipped without them",
)


@pytest.fixture
def kedro_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's conf in a temp dir, as the working directory.

    Catalog paths (``data/...``) and the sqlite MLflow store (``mlflow.db``) are
    relative to the working directory, so every run writes inside ``tmp_path``.
    """
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(
        PROJECT_ROOT / "conf",
        project / "conf",
        ignore=shutil.ignore_patterns("local"),
    )
    (project / "conf" / "local").mkdir()
    for layer in (
        "01_raw",
        "02_intermediate",
        "03_primary",
        "04_feature",
        "05_model_input",
        "06_models",
        "07_model_output",
        "08_reporting",
    ):
        (project / "data" / layer).mkdir(parents=True)
    # An absolute sqlite URI: MLflow caches database engines by URI, so a relative
    # `sqlite:///mlflow.db` would keep writing to the first test's store.
    mlflow_yml = project / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(
        mlflow_yml.read_text().replace(
            "mlflow_tracking_uri: sqlite:///mlflow.db",
            f"mlflow_tracking_uri: sqlite:///{project / 'mlflow.db'}",
        )
    )
    monkeypatch.chdir(project)
    return project


def run_kedro(
    project: Path,
    pipeline: str,
    env: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``kedro run --pipeline <pipeline> [--env] [--params]`` through a KedroSession.

    ``params`` takes dotted keys as ``--params`` does: {"modelling.epochs": 2}.
    """
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    configure_project("cryptopythia")  # the installed package; the copy has no src/
    runtime_params: dict[str, Any] = {}
    for dotted_key, value in (params or {}).items():
        *parents, leaf = dotted_key.split(".")
        node = runtime_params
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        with KedroSession.create(
            project_path=project, env=env, runtime_params=runtime_params
        ) as session:
            return session.run(pipeline_names=[pipeline])
    finally:
        # kedro-mlflow's datasets re-enter the run (start_run(run_id, nested=True)) and
        # leave it on MLflow's run stack after the session; a `kedro run` process ends
        # there, but a test process goes on: close it so the next session starts anew.
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run()


@pytest.fixture
def fake_binance():
    """A running local Binance kline server (see tests/fake_binance.py)."""
    from fake_binance import FakeBinance

    server = FakeBinance().start()
    yield server
    server.stop()
