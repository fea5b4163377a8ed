"""Shared fixtures: a throw-away copy of the project, real Kedro runs, real candles (the
snapshot in data/01_raw/snapshot, always there: no test is skipped for missing data), and
those the test files of one folder share (klines, feature parameters)."""

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

# MLflow's default stores, relative to the working directory: one appearing in the checkout
# during a run is a test that wrote outside its temp folder (support.mlflow_store).
CHECKOUT_LITTER = ("mlruns", "mlartifacts", "mlflow.db")
_LITTER_BEFORE = pytest.StashKey[set]()


def _litter() -> set[str]:
    """The default MLflow stores present in the checkout now."""
    return {name for name in CHECKOUT_LITTER if (PROJECT_ROOT / name).exists()}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the numba kernels (indicators, the intervals' replay) into numba's cache (or
    load them from it: indicators.kernel_cache) once, before pytest-xdist starts its
    workers: they, their `kedro run` subprocesses, Dask workers and served models then
    load the cache (about a second) instead of each compiling (~15 s of CPU)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    session.config.stash[_LITTER_BEFORE] = _litter()
    import numpy as np

    from cryptopythia.features import build_gold
    from cryptopythia.model.intervals import adaptive_quantile_grid

    from support.feature_candles import base_params, real_silver

    build_gold(real_silver("1d").head(400), base_params(), "1d")
    adaptive_quantile_grid(np.linspace(0.1, 2.0, 50), np.array([0.5, 0.8]), 0.005, 1, 20)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when it left a default MLflow store in the checkout."""
    if os.environ.get("PYTEST_XDIST_WORKER") or _LITTER_BEFORE not in session.config.stash:
        return
    new = sorted(_litter() - session.config.stash[_LITTER_BEFORE])
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(
            f"\nThe tests left {', '.join(new)} in the checkout ({PROJECT_ROOT}): a test used "
            "MLflow's default store or artifact root. Give it a temp store "
            "(support.mlflow_store.temp_mlflow_store), then delete them."
        )


@pytest.fixture(autouse=True)
def _slow_work_only_in_slow_tests(request: pytest.FixtureRequest):
    """A test not marked `slow` may not start a kedro run or a server (support.project)."""
    import support.project

    support.project.SLOW_ALLOWED = request.node.get_closest_marker("slow") is not None
    yield
    support.project.SLOW_ALLOWED = True


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
    """A running local Binance kline server (see tests/support/fake_binance.py)."""
    from support.fake_binance import FakeBinance

    server = FakeBinance().start()
    yield server
    server.stop()


# --params of the trained projects below: one epoch, silent.
ONE_EPOCH = {"modelling.epochs": 1, "modelling.verbose": 0}
# The network path: shrinkage off, so forecasts depend on the network, scaler and
# features (with shrinkage on, an untrained network's weights are 0 and every forecast is
# the last close whatever those parts do).
NETWORK_PATH = {"modelling.shrinkage.enabled": False}


@pytest.fixture(scope="session")
def trained_projects_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every pytest-xdist worker of this session (pytest's own root)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    (root / "trained_projects").mkdir(exist_ok=True)
    return root / "trained_projects"


def _trained(root: Path, name: str, rows: int, params: dict, folder: Path, mp) -> Path:
    from support.project import train_on_candles
    from support.trained import trained_copy

    project = trained_copy(
        root,
        name,
        lambda project, scratch: train_on_candles(project, scratch, DAILY_CANDLES, rows, **params),
        folder,
    )
    mp.chdir(project)
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    return project


@pytest.fixture
def network_project(trained_projects_root, tmp_path, monkeypatch) -> Path:
    """This test's copy of a project trained (once per session) on 900 real daily candles
    with the network path on; the working directory and MLflow's store are the copy's."""
    return _trained(
        trained_projects_root,
        "daily_900_network",
        900,
        {**ONE_EPOCH, **NETWORK_PATH},
        tmp_path,
        monkeypatch,
    )


@pytest.fixture
def trained_project(trained_projects_root, tmp_path, monkeypatch) -> Path:
    """This test's copy of a project trained (once per session) on 1,200 real daily
    candles with the default recipe (one epoch)."""
    return _trained(trained_projects_root, "daily_1200", 1200, ONE_EPOCH, tmp_path, monkeypatch)


# --- fixtures the test files of one folder share --------------------------------------


@pytest.fixture
def klines():
    """90 closed daily klines (tests/sources/test_kline_dump*.py)."""
    from support.fake_binance import make_klines

    return make_klines(90, "1d", with_open_candle=False)


@pytest.fixture
def feature_params() -> dict:
    """A fresh copy of conf/base's feature_engineering parameters (tests/features/test_gold*.py)."""
    from support.feature_candles import base_params

    return base_params()


# The longest test files (pytest --durations on 2 cores: 50-290 s each), started first.
LONGEST_FIRST = (
    "test_airflow_dags.py",  # builds Airflow's venv first where `make airflow` did not
    "runners/test_dask_runner.py",
    "pipelines/inference/test_inference_run.py",
    "pipelines/pairs/test_pairs_run.py",
    "team/test_team_mlflow.py",
    "pipelines/modelling/test_modelling_run.py",
    "pipelines/backtest/test_backtest_run.py",
    "runners/test_cluster_store.py",
    "pipelines/modelling/test_modelling_server.py",
    "registry/test_killed_registration.py",
    "pipelines/monitor/test_monitor_run.py",
    "runners/test_worker_loss.py",
    "runners/test_fetch_limit.py",
    "notebooks/test_forecast_tour.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, then the other slow tests, then the rest, dealt out in turn
    to the two halves of the list: pytest-xdist's worksteal gives each worker one
    contiguous half and steals from a queue's end, so both workers start on long tests
    and end on short ones, instead of one waiting on a long one at the end."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = item.path.as_posix()
        longest = [i for i, name in enumerate(LONGEST_FIRST) if path.endswith(name)]
        slow = item.get_closest_marker("slow") is not None
        return (0, longest[0]) if longest else (1 if slow else 2, 0)

    items.sort(key=rank)
    items[:] = items[0::2] + items[1::2]
