"""feature_engineering: silver candles -> gold features (the model's input table)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
