"""A throw-away copy of the project and ways to run it: in-process Kedro sessions (tests)
and timed `kedro run` subprocesses (benchmarks), plus small server helpers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

from .mlflow_store import empty_mlflow_store, end_mlflow_runs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The real BTCUSDT candles shipped with the project (gzip'd kline CSVs, provenance in
# SOURCES.md beside them): pandas and the kline dump reader read them as they are.
SNAPSHOT = PROJECT_ROOT / "data" / "01_raw" / "snapshot"
DAILY_CANDLES = SNAPSHOT / "btcusdt_1d.csv.gz"
FOUR_HOUR_CANDLES = SNAPSHOT / "btcusdt_4h.csv.gz"
DATA_LAYERS = (
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)
BIN = Path(sys.executable).parent
# MLflow 3's tracking server starts a GenAI job runner (seven huey worker processes, ~25 s
# of CPU per start) that no test uses; docs/modelling.md's command turns it off the same way.
TRACKING_SERVER_ENVIRONMENT = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
# False while a test not marked `slow` runs (tests/conftest.py sets it): such a test may not
# start a kedro run or a server, so `make test-fast` stays fast. Benchmarks leave it True.
SLOW_ALLOWED = True


def require_slow(what: str) -> None:
    """Raise when the running test is not marked slow but starts ``what``."""
    if not SLOW_ALLOWED:
        raise RuntimeError(f"A test that starts {what} must be marked @pytest.mark.slow.")


def copy_project(folder: Path, with_source: bool = False) -> Path:
    """pyproject + conf (an empty conf/local) + empty data layers + the candle snapshot in
    ``folder/project``, with its own sqlite MLflow store; ``with_source`` also links src/
    for `kedro run` subprocesses (``link_source``).

    The sqlite URI is absolute: MLflow caches database engines by URI, so a relative
    `sqlite:///mlflow.db` would keep writing to the first project's store.
    """
    project = folder / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    if with_source:
        link_source(project)
    for layer in DATA_LAYERS:
        (project / "data" / layer).mkdir(parents=True)
    # conf/offline reads it by default: data/01_raw/snapshot/btcusdt_1d.csv.gz.
    shutil.copytree(SNAPSHOT, project / SNAPSHOT.relative_to(PROJECT_ROOT))
    shutil.copy(empty_mlflow_store(), project / "mlflow.db")
    mlflow_yml = project / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(
        mlflow_yml.read_text().replace(
            "mlflow_tracking_uri: sqlite:///mlflow.db",
            f"mlflow_tracking_uri: sqlite:///{project / 'mlflow.db'}",
        )
    )
    return project


def link_source(project: Path) -> None:
    """``project/src/cryptopythia`` as a link to the repository's package, which `kedro run`
    in a subprocess needs (Kedro wants src/ itself inside the project). A link, not a copy:
    the subprocess runs the code under test, with nothing to copy."""
    (project / "src").mkdir()
    (project / "src" / "cryptopythia").symlink_to(
        PROJECT_ROOT / "src" / "cryptopythia", target_is_directory=True
    )


def run_kedro(
    project: Path,
    pipeline: str,
    env: str | None = None,
    params: dict[str, Any] | None = None,
    runner: Any = None,
    namespaces: list[str] | None = None,
    from_nodes: list[str] | None = None,
) -> dict[str, Any]:
    """Run ``kedro run --pipeline <pipeline> [--env] [--params] [--runner] [--namespaces]
    [--from-nodes]`` through a KedroSession.

    ``params`` takes dotted keys as ``--params`` does: {"modelling.epochs": 2}.
    """
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    require_slow("a kedro run")
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
            return session.run(
                pipeline_names=[pipeline],
                runner=runner,
                namespaces=namespaces,
                from_nodes=from_nodes,
            )
    finally:
        end_mlflow_runs()
        # a session that failed before its pipeline ran (e.g. a bad pair list) leaves its
        # config loader behind for the next look-up outside a session
        from cryptopythia.session_config import forget_config_loader

        forget_config_loader()


def train_on_candles(
    project: Path, folder: Path, source: Path, rows: int, **params: Any
) -> dict[str, Any]:
    """`kedro run --pipelines training --env offline` on the first ``rows`` candles of
    ``source`` (written to ``folder``), with dotted ``params`` on top."""
    dump = folder / f"slice_{rows}_{source.name}"
    pd.read_csv(source, nrows=rows).to_csv(dump, index=False)
    return run_kedro(
        project,
        "training",
        env="offline",
        params={"data_engineering.dump_path": str(dump), **params},
    )


def kedro_cli(project: Path, *args: str) -> float:
    """Run ``kedro run <args>`` in a subprocess, as a user would; returns its wall time."""
    require_slow("a kedro run")
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "kedro"), "run", *args],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ,
    )
    return time.perf_counter() - start


def post_json(url: str, body: dict, timeout_seconds: float = 120) -> tuple[int, dict]:
    """POST ``body`` as JSON; the HTTP status and the decoded JSON answer (errors too)."""
    import json
    import urllib.error

    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout_seconds: float) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_seconds:.0f} s")


class ServedModel:
    """`mlflow models serve -m <model_uri>` on 127.0.0.1 (a context manager yielding its
    base URL) from the project's sqlite store, or from ``tracking_uri`` (a tracking server)
    in ``environment`` (default: this process's); ``workers`` is passed on as ``--workers``."""

    def __init__(
        self,
        project: Path,
        model_uri: str,
        workers: int = 1,
        timeout_seconds: float = 240,
        tracking_uri: str | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.project, self.model_uri = project, model_uri
        self.workers, self.timeout_seconds = workers, timeout_seconds
        self.tracking_uri = tracking_uri or f"sqlite:///{project / 'mlflow.db'}"
        self.environment = os.environ if environment is None else environment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        require_slow("mlflow models serve")
        env = {
            **self.environment,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }  # it execs uvicorn
        self.log = (self.project / f"serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                self.model_uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            cwd=self.project,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(f"{self.url}/ping", self.process, self.timeout_seconds)
        except (RuntimeError, TimeoutError) as error:
            self.__exit__()
            log = (self.project / f"serve-{self.port}.log").read_text()[-2000:]
            raise RuntimeError(f"mlflow models serve did not start ({error}):\n{log}") from error
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one): every benchmark figure
    is quoted with it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"
