"""Reading a trained forecaster's files back: the network (.keras) and the scaler
(skops), each refused with what is wrong with the file rather than a library's trace.

The scaler is loaded with skops, which builds only the types it is told to trust: the
trusted list is ``SCALER_TYPES`` below, this project's own, never one read from the model
(MLflow's sklearn flavor takes ``skops_trusted_types`` from the model's MLmodel file, so
whoever writes the model chooses it). A scaler file holding any other type is refused.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

# Every type a fitted MinMaxScaler, StandardScaler or RobustScaler (model/scaling.py's
# SCALERS) is stored with: tests/model/test_artifacts.py checks the three against it.
SCALER_TYPES = (
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.ndarray",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._data.StandardScaler",
)


class ArtifactError(ValueError):
    """A model file that is missing, empty or not what this project writes."""


def _present(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise ArtifactError(f"its {what} file {os.path.basename(path)} is missing")
    if os.path.getsize(path) == 0:
        raise ArtifactError(f"its {what} file {os.path.basename(path)} is empty (0 bytes)")


def _types_in(node: Any, found: set[str]) -> set[str]:
    """The ``module.class`` of every object in a skops schema."""
    if isinstance(node, dict):
        if "__class__" in node and "__module__" in node:
            found.add(f"{node['__module__']}.{node['__class__']}")
        for value in node.values():
            _types_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _types_in(value, found)
    return found


def scaler_types(path: str) -> set[str]:
    """The types a skops file would build."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ArtifactError(
            f"its scaler file {os.path.basename(path)} is not a skops file ({error})"
        ) from error
    return _types_in(schema, set())


def load_scaler(path: str) -> Any:
    """The scaler in a skops file, built only if every type in it is in SCALER_TYPES."""
    import skops.io

    _present(path, "scaler")
    unexpected = sorted(scaler_types(path) - set(SCALER_TYPES))
    if unexpected:
        raise ArtifactError(
            f"its scaler file {os.path.basename(path)} holds the type(s) {unexpected}, "
            "which no scaler of this project holds (cryptopythia.model.artifacts."
            "SCALER_TYPES); it is not loaded, since building unknown types can run code"
        )
    return skops.io.load(path, trusted=list(SCALER_TYPES))


def load_network(path: str) -> Any:
    """The Keras network in a .keras file."""
    import keras

    _present(path, "network")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors...
        raise ArtifactError(
            f"its network file {os.path.basename(path)} is not a readable Keras model "
            f"({type(error).__name__}: {str(error).splitlines()[0][:200]})"
        ) from error
