"""backtest: walk-forward evaluation of the network against baselines, and the gate."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
