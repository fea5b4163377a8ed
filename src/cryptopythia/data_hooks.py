"""Hooks around the data a run reads and writes: MLflow dataset inputs, bronze locks."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


def _entry(catalog: Any, name: str) -> dict[str, Any]:
    """The catalog entry of ``name``, a pair's namespaced dataset (``ethusdt_1d.silver``)
    resolved through its dataset factory ('{pair}.silver') as Kedro resolves it."""
    try:
        return catalog.config_resolver.resolve_pattern(name) or {}
    except (AttributeError, KeyError):
        return {}


class MlflowDatasetInputHook:
    """Record the candle tables a tracked run reads as MLflow dataset inputs
    (``mlflow.log_input``): the catalog entries (a pair's too) whose metadata says
    ``mlflow: {log_input: true}``, with their file, rows, first and last candle and a digest
    of the data, under the run's pipeline name as context. Once per run and dataset."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self._project_path = Path.cwd()
        self._context = "kedro"
        self._logged: set[tuple[str, str]] = set()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._project_path = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        names = run_params.get("pipeline_names") or ["__default__"]
        self._context = "+".join(names)
        self._catalog = catalog

    def _source(self, dataset_name: str) -> str | None:
        """The file a logged input came from; None when it is not to be logged."""
        entry = _entry(self._catalog, dataset_name)
        if not ((entry.get("metadata") or {}).get("mlflow") or {}).get("log_input"):
            return None
        filepath = str(entry.get("filepath", dataset_name))
        return filepath if "://" in filepath else str(self._project_path / filepath)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None or not isinstance(data, pd.DataFrame):
            return
        if (run.info.run_id, dataset_name) in self._logged:
            return
        source = self._source(dataset_name)
        if source is None:
            return
        self._logged.add((run.info.run_id, dataset_name))
        times = data["open_time"] if "open_time" in data else pd.Series(dtype="object")
        with warnings.catch_warnings():  # MLflow registers its local-file source twice
            warnings.filterwarnings("ignore", message="The specified dataset source can be")
            dataset = mlflow.data.from_pandas(data, source=source, name=dataset_name)
        mlflow.log_input(
            dataset,
            context=self._context,
            tags={
                "rows": str(len(data)),
                "first_open_time": str(times.iloc[0]) if len(times) else "",
                "last_open_time": str(times.iloc[-1]) if len(times) else "",
            },
        )


class DataLockHook:
    """One run at a time may read, merge and write a bronze and its silver: a pipeline that
    saves ``bronze`` (or a pair's ``<pair>.bronze``) holds an OS file lock beside each
    (``bronze.csv.lock``; released by the OS if the run dies), and a second run waits
    ``data_engineering.lock_timeout_seconds`` for it, then stops with a message instead of
    merging into stale rows."""

    def __init__(self) -> None:
        self._locks: list[Any] = []
        self._timeout: Any = None
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        # The parameters are read when the run starts, not here: ``context.params`` here
        # would type-check the parameters against every registered pipeline (Kedro scopes
        # that check to the run's pipelines only once the run has started), a second check
        # of the whole project that grew with the pairs listed.
        self._context = context

    def _read_timeout(self) -> None:
        if self._context is not None:
            parameters = self._context.params.get("data_engineering") or {}
            self._timeout = parameters.get("lock_timeout_seconds")

    def _timeout_seconds(self) -> float:
        """``data_engineering.lock_timeout_seconds`` as a number; a clear error if not."""
        try:
            seconds = float(self._timeout)
        except (TypeError, ValueError):
            seconds = float("nan")
        if not seconds >= 0:
            raise ValueError(
                f"data_engineering.lock_timeout_seconds={self._timeout!r} is not a number of "
                "seconds; set it to how long a run waits for another's bronze lock, e.g. "
                "--params data_engineering.lock_timeout_seconds=60."
            )
        return seconds

    @hook_impl
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        from filelock import FileLock, Timeout

        from .datasets.candle_csv_dataset import describe_write_error
        from .datasets.mlflow_artifact_dataset import is_local

        outputs = sorted(n for n in pipeline.all_outputs() if n.rsplit(".", 1)[-1] == "bronze")
        if outputs:
            self._read_timeout()
        timeout = self._timeout_seconds() if outputs else 0.0
        for name in outputs:
            path = str(_entry(catalog, name).get("filepath", ""))
            if not path:
                continue
            if not is_local(path):  # an object store (the cluster env): no OS lock there
                logger.warning(
                    "%s is on an object store (%s): the OS file lock that keeps a second "
                    "data_engineering run of the same pair out only works on a file system; "
                    "run one data_engineering per pair at a time (one scheduled run does).",
                    name,
                    path,
                )
                continue
            lock = FileLock(f"{path}.lock")
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                lock.acquire(timeout=timeout)
            except Timeout as error:
                self._release()
                raise RuntimeError(
                    f"Another data_engineering run holds {lock.lock_file} (it is updating "
                    f"{name} and its silver); waited {timeout:.0f} s "
                    "(data_engineering.lock_timeout_seconds). Run again when it has finished."
                ) from error
            except (
                OSError
            ) as error:  # (Timeout is one too) a read-only or full data folder, no permission
                self._release()
                raise RuntimeError(
                    f"{describe_write_error(lock.lock_file, error)}. The run takes this lock "
                    f"before it updates {name}. Nothing ran."
                ) from error
            self._locks.append(lock)

    def _release(self) -> None:
        while self._locks:
            self._locks.pop().release()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._release()


class StaleSilverHook:
    """A run that reads a silver it does not write (inference, modelling, backtest...) stops
    when that silver is older than its bronze: a data_engineering run ended (killed, disk
    full) between the two saves, and silver misses bronze's newest candles. A run that
    writes silver rebuilds it from bronze and is let through. Runs before kedro-mlflow
    opens a run, so a refused run records nothing."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        from .datasets.mlflow_artifact_dataset import is_local

        for name in sorted(n for n in pipeline.inputs() if n.rsplit(".", 1)[-1] == "silver"):
            bronze_name = name.rsplit(".", 1)[0] + ".bronze" if "." in name else "bronze"
            silver = str(_entry(catalog, name).get("filepath", ""))
            bronze = str(_entry(catalog, bronze_name).get("filepath", ""))
            if not (silver and bronze and is_local(silver) and is_local(bronze)):
                continue
            if not (Path(silver).exists() and Path(bronze).exists()):
                continue
            silver_time, bronze_time = Path(silver).stat().st_mtime, Path(bronze).stat().st_mtime
            if bronze_time > silver_time:
                raise RuntimeError(
                    f"{silver} (written {pd.Timestamp(silver_time, unit='s'):%Y-%m-%d %H:%M:%S}"
                    f" UTC) is older than its bronze {bronze} (written "
                    f"{pd.Timestamp(bronze_time, unit='s'):%Y-%m-%d %H:%M:%S} UTC): a "
                    "data_engineering run stopped between the two saves, so silver misses "
                    "bronze's newest candles. Rebuild it with `kedro run --pipelines "
                    "data_engineering` (it re-reads bronze), then run again. Nothing ran."
                )
