"""The candles a volatility model reads: closes always, open/high/low for the range-based
ones; from a model table (``close_usd``...), silver candles (``close``...) or bare closes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# model-table column -> Candles field; silver/gold frames use the plain names
TABLE_COLUMNS = {"open_usd": "open", "high_usd": "high", "low_usd": "low", "close_usd": "close"}


@dataclass(frozen=True)
class Candles:
    """OHLC prices, oldest first; open/high/low are None when only closes are known."""

    close: np.ndarray
    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.close)

    @property
    def has_range(self) -> bool:
        """Whether open, high and low are known: range-based models need them."""
        return self.open is not None and self.high is not None and self.low is not None

    def rows(self, start: int | None, stop: int | None) -> Candles:
        """The candles of rows [start, stop), as a slice of a list."""
        part = slice(start, stop)
        return Candles(
            self.close[part],
            None if self.open is None else self.open[part],
            None if self.high is None else self.high[part],
            None if self.low is None else self.low[part],
        )

    def log_returns(self) -> np.ndarray:
        """log(close_t / close_(t-1)) at every row, NaN at the first."""
        return np.concatenate([[np.nan], np.diff(np.log(self.close))])


def candles_of(source: Candles | pd.DataFrame | np.ndarray) -> Candles:
    """``Candles`` from a model table, an OHLC frame or an array of closes (closes only)."""
    if isinstance(source, Candles):
        return source
    if isinstance(source, pd.DataFrame):
        table = "close_usd" in source.columns
        names = TABLE_COLUMNS if table else {field: field for field in TABLE_COLUMNS.values()}
        values = {
            field: source[column].to_numpy(dtype="float64")
            for column, field in names.items()
            if column in source.columns
        }
        return Candles(**values)
    return Candles(np.asarray(source, dtype="float64"))
