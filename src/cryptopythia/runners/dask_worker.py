"""What runs on a Dask worker for each node (``DaskRunner``): the project's hooks, the
driver's MLflow run made active, TensorFlow's threads capped, a concurrency lease held."""

from __future__ import annotations

import os
import sys
from typing import Any

from kedro.io import CatalogProtocol
from kedro.pipeline.node import Node


def _enter_driver_run(tracking: dict[str, str] | None) -> None:
    """Make the driver's MLflow run this worker's active run (once per worker process; it
    stays active for the worker's next nodes: ending it would mark the run FINISHED)."""
    if not tracking:
        return
    import mlflow

    active = mlflow.active_run()
    if active is not None and active.info.run_id == tracking["run_id"]:
        return
    if active is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(tracking["uri"])
    mlflow.start_run(run_id=tracking["run_id"])


def _limit_tensorflow_threads(threads: int | None) -> None:
    """At most ``threads`` TensorFlow threads per op on this worker (N workers on N cores
    must not each take all cores). The variables cap a TensorFlow imported later; one
    already imported is capped through its config, possible only before its first op."""
    if not threads:
        return
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(variable, str(threads))
    if "tensorflow" not in sys.modules:  # importing it costs seconds on nodes that never use it
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised by an earlier node on this worker
        pass


def run_node_on_worker(
    node: Node,
    catalog: CatalogProtocol,
    is_async: bool,
    run_id: str | None,
    tracking: dict[str, str] | None,
    tensorflow_threads: int | None,
    limit: Any,
    *dependencies: Node,
) -> Node:
    """Run one node on a Dask worker with the project's own hooks, in the driver's run;
    holding a lease of ``limit`` (a ``distributed.Semaphore``) while it runs, if given."""
    from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
    from kedro.framework.project import PACKAGE_NAME, configure_project, settings
    from kedro.runner.task import Task

    if PACKAGE_NAME is None:  # a fresh worker process
        configure_project("cryptopythia")
    _limit_tensorflow_threads(tensorflow_threads)
    hook_manager = _create_hook_manager()
    _register_hooks(
        hook_manager, settings.HOOKS
    )  # not the plugins': kedro-mlflow's is the driver's
    _enter_driver_run(tracking)
    task = Task(
        node=node, catalog=catalog, is_async=is_async, hook_manager=hook_manager, run_id=run_id
    )
    if limit is None:
        return task.execute()
    from distributed import rejoin, secede

    secede()  # wait for a lease without holding the worker's thread: others may run
    limit.acquire()
    rejoin()
    try:
        return task.execute()
    finally:
        limit.release()
