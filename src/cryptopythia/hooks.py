"""Project hooks."""

from __future__ import annotations

import logging
import os
import re
import socket
import urllib.request
from typing import Any

from kedro.framework.hooks import hook_impl

from .session_config import forget_config_loader, remember_config_loader

logger = logging.getLogger(__name__)


class ProjectConfigHook:
    """Give the pipeline registry and the runners this session's configuration.

    Kedro builds the project's pipelines once per process, after the context is created;
    the pair list (one namespace per pair) lives in the parameters of the session's
    environment, and the Dask runner's cluster in its dask.yml, so both read them from
    this session's config loader.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        from kedro.framework.project import PACKAGE_NAME, pipelines

        remember_config_loader(context.config_loader)
        # A pipeline set built for another session of this process may list other pairs.
        # configure() forgets which pipelines the run asked for (Kedro records them before
        # the context exists): ask again, so the registry builds only those.
        requested = getattr(pipelines, "_requested_pipelines", None)
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
        if requested is not None:
            pipelines.set_requested(requested)

    @hook_impl
    def after_pipeline_run(self) -> None:
        """The session's run is over: later look-ups outside a session read ./conf."""
        forget_config_loader()

    @hook_impl
    def on_pipeline_error(self) -> None:
        """As after a run: a failed run's configuration is not the next session's."""
        forget_config_loader()


def check_sqlite_store(uri: str, where: str) -> None:
    """Raise, naming the file and the fix, when ``uri`` is a sqlite MLflow store whose file
    is not a readable SQLite database (random bytes, a copy cut short, a full disk): MLflow
    would fail deep in SQLAlchemy with "database disk image is malformed". No file yet, or
    an empty one, is fine: MLflow makes the tables."""
    import sqlite3

    if not str(uri).startswith("sqlite:///"):
        return
    path = str(uri).removeprefix("sqlite:///").split("?")[0]
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
            problems = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        problems = str(error)
    if problems != "ok":
        raise RuntimeError(
            f"The MLflow store {os.path.abspath(path)} (server.mlflow_tracking_uri={uri} in "
            f"{where}) is not a readable SQLite database ({problems}): the file is damaged, "
            "e.g. truncated by a full disk or a copy cut short. Move it aside (mv mlflow.db "
            "mlflow.db.damaged) and put your backup in its place; without a backup the next "
            "run starts an empty store, and the runs and registered models of the old one "
            "are lost (`sqlite3 mlflow.db.damaged .recover` may save some of them)."
        )


class MlflowServerCheckHook:
    """Fail at once, with the fix, when the configured MLflow tracking server is down or
    the sqlite store's file is damaged.

    Without it MLflow retries a refused connection for minutes before kedro-mlflow's
    own set-up fails with a bare connection error, and a damaged sqlite file fails there
    with a SQLAlchemy trace.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        uri = context.config_loader["mlflow"].get("server", {}).get("mlflow_tracking_uri")
        if uri:
            check_sqlite_store(str(uri), f"conf/{context.env}/mlflow.yml")
        if not uri or not str(uri).startswith(("http://", "https://")):
            return
        try:
            urllib.request.urlopen(f"{str(uri).rstrip('/')}/health", timeout=5)
        except OSError as error:
            raise RuntimeError(
                f"The MLflow tracking server {uri} (server.mlflow_tracking_uri in "
                f"conf/{context.env}/mlflow.yml) is unreachable ({error}). Start it (docs/modelling.md: "
                "`mlflow server ...`; a team server: docs/team_mlflow.md) or run without "
                f"--env {context.env} to use the local sqlite store."
            ) from error


class MlflowRunResetHook:
    """Forget kedro-mlflow's run once a pipeline ends.

    kedro-mlflow's hook is one object per process and keeps the id of the last run it
    opened; a later session in the same process (a notebook, a test, an API) whose
    pipeline has tracking disabled would re-open that run before every node.
    """

    @staticmethod
    def _forget() -> None:
        from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

        mlflow_hook.run_id = None

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._forget()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._forget()


# Parameter names that hold secrets: never a parameter here (kedro-mlflow logs every
# parameter a node reads, and the run's --params as a tag), always conf/local/credentials.yml.
# Each dotted part is lower-cased with its separators (-, space, camelCase) made "_" first.
SECRET_NAME = re.compile(
    r"(secret|token|passw(or)?d|passphrase|credential|private_?key|api_?key|(^|_)key$)"
)


def looks_secret(name: str) -> bool:
    """Whether a dotted parameter name names a secret: ``api_key``, ``api-key``, ``apiKey``,
    ``access_key``, ``passphrase``, ``client_secret``, ``MLFLOW_TOKEN``, ``password``..."""
    for part in name.split("."):
        spelled = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", part)  # camelCase -> camel_Case
        if SECRET_NAME.search(re.sub(r"[\s\-]+", "_", spelled).lower()):
            return True
    return False


class SecretParametersHook:
    """Stop a run, before MLflow records anything, when a parameter's name looks like a
    secret (api_key, secret, token, password, credential) and it has a value: MLflow would
    store it in plain text as a param and in the ``runtime_params`` tag."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        from .parameters import flatten

        parameters = catalog.load("parameters") if "parameters" in catalog else {}
        flat = {**flatten(parameters), **flatten(run_params.get("runtime_params") or {})}
        secrets = sorted(k for k, v in flat.items() if looks_secret(k) and v not in (None, ""))
        if secrets:
            raise ValueError(
                f"Parameter(s) {', '.join(secrets)} look like secrets: parameters are recorded "
                "in MLflow in plain text, so this run was stopped before recording anything. "
                "Put keys in conf/local/credentials.yml (git-ignored, never logged; docs/data.md: "
                "API keys) and leave the parameter empty."
            )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class MlflowStaleRunHook:
    """Mark runs left RUNNING by a killed process FAILED: each tracked run records its host
    and process id; at the next start, a RUNNING run of this experiment from this host
    whose process is gone is ended as FAILED (a run of a live process is left alone)."""

    @hook_impl(trylast=True)  # after kedro-mlflow has started this run
    def before_pipeline_run(self) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        run = mlflow.active_run()
        if run is None:
            return
        host = socket.gethostname()
        mlflow.set_tags({"host": host, "pid": str(os.getpid())})
        client = MlflowClient()
        running = client.search_runs(
            [run.info.experiment_id], filter_string="attributes.status = 'RUNNING'"
        )
        for stale in running:
            tags = stale.data.tags
            if stale.info.run_id == run.info.run_id or tags.get("host") != host:
                continue
            if not tags.get("pid", "").isdigit() or _process_alive(int(tags["pid"])):
                continue
            client.set_tag(
                stale.info.run_id,
                "failure",
                f"process {tags['pid']} ended without closing the run (killed?); marked "
                f"FAILED by run {run.info.run_id}",
            )
            client.set_terminated(stale.info.run_id, status="FAILED")
            logger.warning(
                "MLflow run %s (%s) was left RUNNING by process %s, which is gone: marked FAILED.",
                stale.info.run_id,
                stale.info.run_name,
                tags["pid"],
            )


class ParameterCheckHook:
    """Check the parameters the run's nodes read against their typed schemas
    (``cryptopythia.parameters``) before anything runs or is recorded."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        from .parameter_schemas import SCHEMAS
        from .parameters import check_parameters

        parameters = catalog.load("parameters")
        scopes: dict[str, set[str]] = {}  # "" = global; else a pair's namespace
        for name in pipeline.inputs():
            if name.startswith("params:"):
                first, *rest = name.removeprefix("params:").split(".")
                if rest and first not in SCHEMAS and isinstance(parameters.get(first), dict):
                    scopes.setdefault(first, set()).add(rest[0])
                else:
                    scopes.setdefault("", set()).add(first)
        for scope, sections in sorted(scopes.items()):
            check_parameters(parameters.get(scope, {}) if scope else parameters, sections, scope)
