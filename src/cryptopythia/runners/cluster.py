"""The Dask cluster a DaskRunner submits to: a running scheduler, or a LocalCluster."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)


def worker_environment(tensorflow_threads: int | None) -> dict[str, str]:
    """Environment of LocalCluster workers: at most ``tensorflow_threads`` threads per op."""
    if not tensorflow_threads:
        return {}
    threads = str(int(tensorflow_threads))
    return {
        "OMP_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
    }


@contextmanager
def connect(config: dict[str, Any]) -> Iterator[Any]:
    """A ``distributed.Client`` on ``config["scheduler_address"]`` (or Dask's own
    ``scheduler-address`` setting, e.g. DASK_SCHEDULER_ADDRESS); without one, on a
    LocalCluster of ``n_workers`` processes bound to 127.0.0.1, closed afterwards."""
    import dask
    from distributed import Client, LocalCluster

    address = config.get("scheduler_address") or dask.config.get("scheduler-address", None)
    if address:
        try:
            client = Client(address, timeout=config.get("connect_timeout", "30s"))
        except OSError as error:
            raise RuntimeError(
                f"The Dask scheduler {address} (conf/<env>/dask.yml cluster.scheduler_address "
                f"or DASK_SCHEDULER_ADDRESS) is unreachable: {error}. Start it (`dask "
                "scheduler` and `dask worker <address>`), or leave the address empty for a "
                "LocalCluster on this machine."
            ) from error
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=int(config.get("n_workers", 2)),
            threads_per_worker=int(config.get("threads_per_worker", 1)),
            processes=True,
            host="127.0.0.1",
            dashboard_address=config.get("dashboard_address", "127.0.0.1:0"),
            env=worker_environment(config.get("tensorflow_threads")),
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
