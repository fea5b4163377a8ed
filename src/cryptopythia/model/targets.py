"""What the network predicts (price level, difference or log return) and the way back
to USD closes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .choices import Target, allowed


def target_column(kind: str) -> str:
    """Name of the column holding what the network predicts."""
    return f"target_{kind}"


def make_target(close: pd.Series, kind: str) -> pd.Series:
    """The series the network predicts, from the close: level, difference or log return.

    The value at row t only uses closes <= t (the first row of diff/log_return is NaN).
    """
    if kind == "close":
        values = close.astype("float64")
    elif kind == "diff":
        values = close.diff()
    elif kind == "log_return":
        values = np.log(close).diff()
    else:
        raise ValueError(f"Unknown target kind {kind!r}: use one of {', '.join(allowed(Target))}.")
    return values.rename(target_column(kind))


def target_to_close(targets: np.ndarray, last_close: np.ndarray, kind: str) -> np.ndarray:
    """Turn predicted targets for steps t+1..t+h (N, h) back into USD closes (N, h)."""
    targets = np.asarray(targets, dtype="float64")
    last_close = np.asarray(last_close, dtype="float64")[:, None]
    if kind == "close":
        return targets
    if kind == "diff":
        return last_close + np.cumsum(targets, axis=1)
    if kind == "log_return":
        return last_close * np.exp(np.cumsum(targets, axis=1))
    raise ValueError(f"Unknown target kind {kind!r}: use one of {', '.join(allowed(Target))}.")
