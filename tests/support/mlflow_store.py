"""MLflow stores for tests and benchmarks: an empty sqlite store made once per machine, a
temp store with its own artifact folder, and closing the runs a Kedro session leaves."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def empty_mlflow_store() -> Path:
    """An MLflow sqlite store with its tables made and nothing in them, shared by every copy.

    Making the tables runs MLflow's ~100 migrations: 5 s in a fresh process, up to 20 s in
    a test process that has TensorFlow and Dask loaded; a copy of the file takes 1 ms. It
    is made once per MLflow version and machine, atomically (a rename), so two test
    workers that make it at once both get a whole one.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    store = Path(tempfile.gettempdir()) / f"cryptopythia-empty-mlflow-{mlflow.__version__}.db"
    if not store.exists():
        partial = store.with_name(f"{store.name}.{os.getpid()}.partial")
        MlflowClient(tracking_uri=f"sqlite:///{partial}").search_experiments()
        os.replace(partial, store)
    return store


def end_mlflow_runs() -> None:
    """Close the runs kedro-mlflow leaves on MLflow's run stack after a session.

    Its datasets re-enter the run (start_run(run_id, nested=True)); a `kedro run` process
    ends there, but a test or benchmark process goes on and the next session would adopt it.
    """
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()


@contextmanager
def temp_mlflow_store(folder: Path, experiment: str) -> Iterator[Path]:
    """A fresh sqlite store in ``folder`` as the tracking URI, with ``experiment`` active and
    its artifacts in ``folder/artifacts`` (yielded): by default MLflow writes them to
    ./mlruns, in the checkout. The previous tracking URI and active experiment (MLflow
    keeps it in a module global and in MLFLOW_EXPERIMENT_ID) come back on exit."""
    import mlflow
    from mlflow.environment_variables import MLFLOW_EXPERIMENT_ID
    from mlflow.tracking import fluent

    shutil.copy(empty_mlflow_store(), folder / "mlflow.db")  # no migrations
    previous = mlflow.get_tracking_uri(), fluent._active_experiment_id, MLFLOW_EXPERIMENT_ID.get()
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    artifacts = folder / "artifacts"
    try:
        mlflow.set_experiment(
            experiment_id=mlflow.create_experiment(experiment, artifact_location=artifacts.as_uri())
        )
        yield artifacts
    finally:
        mlflow.set_tracking_uri(previous[0])
        fluent._active_experiment_id = previous[1]
        if previous[2] is None:
            MLFLOW_EXPERIMENT_ID.unset()
        else:
            MLFLOW_EXPERIMENT_ID.set(previous[2])
