"""The scaler of the network's inputs and target: fitted on training rows only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from .choices import Scaler, covering
from .spec import ModelSpec

# modelling.scaler's values (model.choices.Scaler) -> the sklearn class of each
SCALERS = covering(
    Scaler, {"minmax": MinMaxScaler, "standard": StandardScaler, "robust": RobustScaler}
)


def fit_scaler(train: pd.DataFrame, spec: ModelSpec) -> Any:
    """Fit the configured scaler on the training rows only (features + target column)."""
    scaler = clone(SCALERS[spec.scaler]())
    scaler.fit(train[list(spec.scaler_columns)])
    return scaler


def scale_table(scaler: Any, table: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """The scaled model inputs of a table as float32; the last column is the target.

    The target column is NaN on the first row for diff/log_return; it is never a
    predicted value (no window ends before row 0) and is set to 0 as an input.
    """
    scaled = scaler.transform(table[list(spec.scaler_columns)]).astype("float32")
    return np.nan_to_num(scaled, nan=0.0)


def inverse_target(scaler: Any, scaled_targets: np.ndarray) -> np.ndarray:
    """Undo the scaling of predicted targets (N, h) using the scaler's last column."""
    scaled_targets = np.asarray(scaled_targets, dtype="float64")
    n_rows, horizon = scaled_targets.shape
    n_columns = scaler.n_features_in_
    full = np.zeros((n_rows * horizon, n_columns))
    full[:, -1] = scaled_targets.reshape(-1)
    names = getattr(scaler, "feature_names_in_", None)
    frame = pd.DataFrame(full, columns=names) if names is not None else full
    return scaler.inverse_transform(frame)[:, -1].reshape(n_rows, horizon)
