"""A Kedro runner that submits every node to a ``dask.distributed`` scheduler.

After Kedro's documented Dask deployment (its ``DaskRunner`` sample), on Kedro 1.7's
runner and catalog API:

- every node becomes a Dask task whose dependencies are the tasks producing its inputs, so
  independent branches (the pairs of a ``pairs`` list) run on different workers;
- data passed in memory between nodes (Kedro's ``MemoryDataset``) is published on the
  scheduler (``_DaskDataset``), since workers share no memory; persisted datasets are read
  and written by the workers themselves (a shared or fsspec store: conf/cluster);
- kedro-mlflow keeps its run in its hook object, in the driver process; a worker's own
  copy of that hook has no run. So the driver logs each node's parameters through
  kedro-mlflow's hook before submitting it, and each node runs on its worker inside
  ``mlflow.start_run(run_id=<the driver's run>)``: artifacts, metrics and registered
  models land in the same run as with the SequentialRunner;
- a failing node fails its dependents only: other pairs finish, and the run then fails
  with every failed node named by pair (nothing a finished pair saved is touched);
- ``concurrency_limits`` caps how many nodes of one function run at once on the cluster,
  across runs (a ``distributed.Semaphore`` each): the pairs' fetches share one IP's
  Binance request weight, whatever the number of workers.

The cluster comes from conf/<env>/dask.yml: a scheduler address, else a LocalCluster.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections import Counter
from itertools import chain
from typing import Any

from kedro.io import AbstractDataset, CatalogProtocol, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro.runner import AbstractRunner
from pluggy import PluginManager

from .dask_worker import run_node_on_worker

logger = logging.getLogger(__name__)


class _DaskDataset(AbstractDataset):
    """Data passed between nodes through the Dask scheduler (a published dataset).

    Published as pickle bytes: Keras 3 models pickle themselves (as a .keras archive),
    while distributed's own Keras serializer still expects Keras 2 internals.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def load(self) -> Any:
        from distributed import get_client

        return pickle.loads(get_client().get_dataset(self._name))

    def save(self, data: Any) -> None:
        from distributed import get_client

        payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        get_client().publish_dataset(payload, name=self._name, override=True)

    def _exists(self) -> bool:
        from distributed import get_client

        return self._name in get_client().list_datasets()

    def _release(self) -> None:
        from distributed import get_client

        client = get_client()
        if self._name in client.list_datasets():
            client.unpublish_dataset(self._name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


def check_concurrency_limits(limits: dict[str, Any] | None) -> dict[str, int]:
    """``{node function name: at most this many at once}``, each a whole number >= 1."""
    for function, leases in (limits or {}).items():
        if not isinstance(leases, int) or isinstance(leases, bool) or leases < 1:
            raise ValueError(
                f"dask.yml cluster.concurrency_limits.{function}={leases!r}: give the most "
                "nodes of that function that may run at once, a whole number >= 1."
            )
    return dict(limits or {})


def concurrency_limits(limits: dict[str, int]) -> dict[str, Any]:
    """One ``distributed.Semaphore`` per limited node function, named for the function so
    that every run on the cluster shares it (their fetches share one IP)."""
    from distributed import Semaphore

    return {
        function: Semaphore(max_leases=leases, name=f"cryptopythia-{function}")
        for function, leases in limits.items()
    }


def _driver_mlflow_run() -> dict[str, str] | None:
    """The tracking URI (absolute for a sqlite file) and id of the driver's active run."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return None
    uri = mlflow.get_tracking_uri()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + os.path.abspath(uri.removeprefix("sqlite:///"))
    return {"uri": uri, "run_id": run.info.run_id}


def _log_node_parameters(
    hook_manager: PluginManager, node: Node, catalog: CatalogProtocol, is_async: bool
) -> None:
    """kedro-mlflow's parameter logging for ``node``, on the driver where its run lives."""
    try:
        from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook
    except ImportError:
        return
    if not hook_manager.is_registered(mlflow_hook) or getattr(mlflow_hook, "run_id", None) is None:
        return
    inputs = {name: catalog.load(name) for name in node.inputs if name.startswith("params:")}
    mlflow_hook.before_node_run(node=node, catalog=catalog, inputs=inputs, is_async=is_async)


def failed_pairs_message(failed: dict[Node, BaseException], skipped: set[Node]) -> str:
    """Which nodes failed (by pair namespace) and why, and what did not run because of them."""
    lines = [f"{len(failed)} node(s) failed on the Dask cluster:"]
    for node, error in sorted(failed.items(), key=lambda item: item[0].name):
        where = f"pair {node.namespace}" if node.namespace else "no pair"
        lines.append(f"  - {node.name} ({where}): {type(error).__name__}: {error}")
    if skipped:
        pairs = sorted({n.namespace or "(no pair)" for n in skipped})
        lines.append(
            f"{len(skipped)} node(s) after them did not run (pairs: {', '.join(pairs)}). "
            "Everything else finished and is saved; re-run only what failed with "
            "`kedro run ... --namespaces <pair>` once fixed."
        )
    return "\n".join(lines)


class DaskRunner(AbstractRunner):
    """``kedro run --runner cryptopythia.runners.DaskRunner``: nodes as Dask tasks on the
    cluster of conf/<env>/dask.yml (a LocalCluster when no scheduler address is set)."""

    def __init__(self, is_async: bool = False, cluster: dict[str, Any] | None = None) -> None:
        super().__init__(is_async=is_async)
        self._cluster_config = cluster

    def run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        from .cluster import connect

        config = self._cluster_config or _configured_cluster()
        self._tensorflow_threads = config.get("tensorflow_threads")
        self._retries = int(config.get("retries", 0))
        self._limits = check_concurrency_limits(config.get("concurrency_limits"))
        with connect(config) as client:
            logger.info(
                "Dask cluster: %s (dashboard %s).", client.scheduler.address, client.dashboard_link
            )
            for name in pipeline.datasets():
                if name.startswith("params:") or name == "parameters":
                    continue
                dataset = catalog.get(name, fallback_to_runtime_pattern=True)
                if isinstance(dataset, MemoryDataset):
                    catalog[name] = _DaskDataset(name)
            return super().run(pipeline, catalog, hook_manager, run_id, only_missing_outputs)

    def _get_executor(self, max_workers: int) -> None:
        """None: Dask's scheduler, not a local executor, runs the nodes."""
        return None

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        from distributed import as_completed, get_client

        client = get_client()
        nodes = pipeline.nodes  # topologically sorted
        load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
        tracking = _driver_mlflow_run()
        [shared_catalog] = client.scatter([catalog], broadcast=True, hash=False)
        limits = concurrency_limits(self._limits)
        futures: dict[Node, Any] = {}
        for node in nodes:
            dependencies = [futures[parent] for parent in pipeline.node_dependencies[node]]
            futures[node] = client.submit(
                run_node_on_worker,
                node,
                shared_catalog,
                self._is_async,
                run_id,
                tracking,
                self._tensorflow_threads,
                limits.get(node.func.__name__),
                *dependencies,
                # Key prefix = the node's function: Dask learns one duration per function
                # across pairs, which balances the pairs over the workers.
                key=f"{node.func.__name__}-{node.name}-{run_id or 'run'}",
                pure=False,
                retries=self._retries,
            )
        for node in nodes:  # while the workers run: the parameters are the driver's work
            _log_node_parameters(hook_manager, node, catalog, self._is_async)
        node_of = {future.key: node for node, future in futures.items()}
        errored: dict[Node, BaseException] = {}
        for done, future in enumerate(as_completed(futures.values()), start=1):
            node = node_of[future.key]
            if future.status == "error":
                errored[node] = future.exception()
                continue
            logger.info("Completed node: %s (%d of %d)", node.name, done, len(nodes))
            self._release_datasets(node, catalog, load_counts, pipeline)
        if errored:
            # A node whose inputs' producers all succeeded is a failure; the rest did not run.
            failed = {
                n: e
                for n, e in errored.items()
                if not any(p in errored for p in pipeline.node_dependencies[n])
            }
            raise RuntimeError(failed_pairs_message(failed, set(errored) - set(failed)))


def _configured_cluster() -> dict[str, Any]:
    """conf/<env>/dask.yml of the session being run."""
    from ..session_config import session_config

    return session_config("dask").get("cluster", {})
