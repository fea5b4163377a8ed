"""pairs: the summary tables across the pairs listed in ``pairs`` (their pipelines are the
stage pipelines, namespaced per pair by the pipeline registry)."""

from .pipeline import create_summary_pipelines

__all__ = ["create_summary_pipelines"]
