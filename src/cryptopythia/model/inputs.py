"""The network's inputs: gold's columns made scale-free, so that a price level the network
never saw in training gives it the same kind of numbers as the prices it learnt on.

Each gold column has a unit (declared by its feature family, see
``cryptopythia.features.column_units``): price levels (closes, SMAs, EMAs, Bollinger bands,
lags) enter as log ratios to the close, price spreads (ATR, rolling std, MACD) as a share
of the close, volume as its log ratio to its rolling mean, and running totals (OBV, which
depends on where the history starts) not at all; scale-free columns (returns, RSI,
stochastics, %B, calendar and Fourier terms) enter as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL, SPREAD, VOLUME, RUNNING, FREE = "level", "spread", "volume", "running", "free"


def input_name(column: str, unit: str) -> str | None:
    """The network input made from a gold column of ``unit`` (None: not an input)."""
    if unit == FREE:
        return column
    if unit == RUNNING or column == "close":  # the close relative to itself is always 0
        return None
    return f"{column}_rel"


def scale_free_inputs(
    gold: pd.DataFrame, columns: list[str], units: dict[str, str], volume_window: int
) -> pd.DataFrame:
    """The scale-free inputs made from gold's ``columns`` (their units in ``units``)."""
    close = gold["close"].to_numpy(dtype="float64")
    inputs: dict[str, np.ndarray] = {}
    for column in columns:
        name, unit = input_name(column, units[column]), units[column]
        if name is None:
            continue
        values = gold[column].to_numpy(dtype="float64")
        if unit == LEVEL:
            inputs[name] = np.log(values / close)
        elif unit == SPREAD:
            inputs[name] = values / close
        elif unit == VOLUME:
            mean = gold[column].rolling(volume_window, min_periods=1).mean().to_numpy()
            inputs[name] = np.log1p(values) - np.log1p(mean)
        else:
            inputs[name] = values
    return pd.DataFrame(inputs, index=gold.index)
