"""data_engineering: Binance candles (live API or kline dump) -> bronze -> silver."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
