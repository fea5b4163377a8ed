"""Custom Kedro datasets: atomic candle tables and the Binance client."""

from .binance_client_dataset import BinanceClientDataset
from .candle_csv_dataset import CandleCSVDataset

__all__ = ["BinanceClientDataset", "CandleCSVDataset"]
