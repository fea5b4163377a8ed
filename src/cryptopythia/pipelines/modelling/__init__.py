"""modelling: gold -> chronological windows -> Conv1D+LSTM -> evaluation -> MLflow registry."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
