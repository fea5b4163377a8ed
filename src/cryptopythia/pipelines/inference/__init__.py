"""inference: the registered model forecasts every candle up to a target date."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
