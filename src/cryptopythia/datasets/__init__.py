"""Custom Kedro datasets: atomic candle tables, the Binance client, MLflow artifacts on
any fsspec store."""

from .binance_client_dataset import BinanceClientDataset
from .candle_csv_dataset import CandleCSVDataset
from .mlflow_artifact_dataset import MlflowArtifactDataset

__all__ = ["BinanceClientDataset", "CandleCSVDataset", "MlflowArtifactDataset"]
