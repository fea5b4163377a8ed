"""monitor: the ledger's forecasts scored against the candles that closed since."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
