"""Kedro runners of the project: ``kedro run --runner cryptopythia.runners.DaskRunner``."""

from .dask_runner import DaskRunner

__all__ = ["DaskRunner"]
