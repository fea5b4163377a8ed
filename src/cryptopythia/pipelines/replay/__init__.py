"""replay: the daily forecast run as if each past candle had just closed, into the ledger."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
