"""Custom Kedro datasets: atomic candle tables, the Binance client, MLflow artifacts on
any fsspec store, the forecast ledger's SQL table, the window spec."""

from .binance_client_dataset import BinanceClientDataset
from .candle_csv_dataset import CandleCSVDataset
from .forecast_ledger_dataset import ForecastLedgerDataset
from .mlflow_artifact_dataset import MlflowArtifactDataset
from .model_spec_dataset import ModelSpecDataset

__all__ = [
    "BinanceClientDataset",
    "CandleCSVDataset",
    "ForecastLedgerDataset",
    "MlflowArtifactDataset",
    "ModelSpecDataset",
]
