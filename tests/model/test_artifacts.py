"""A forecaster's files read back: the scaler built only from this project's trusted
types (never a list stored with the model), and a missing, empty or foreign file named."""

from __future__ import annotations

import fractions

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LinearRegression

from cryptopythia.model.artifacts import ArtifactError, load_network, load_scaler
from cryptopythia.model.scaling import SCALERS


def fitted(kind: str):
    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=["a", "b", "c"])
    return SCALERS[kind]().fit(rows), rows


@pytest.mark.parametrize("kind", sorted(SCALERS))
def test_the_project_scalers_load(tmp_path, kind):
    scaler, rows = fitted(kind)
    skops.io.dump(scaler, tmp_path / "scaler.skops")
    loaded = load_scaler(str(tmp_path / "scaler.skops"))
    np.testing.assert_array_equal(loaded.transform(rows), scaler.transform(rows))


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        # trusted by skops' own defaults (a scikit-learn type), not by this project
        (LinearRegression(), "sklearn.linear_model._base.LinearRegression"),
        (fractions.Fraction(1, 3), "fractions.Fraction"),
    ],
)
def test_a_scaler_file_with_another_type_is_refused(tmp_path, extra, named):
    scaler, _ = fitted("minmax")
    scaler.extra = extra
    path = tmp_path / "scaler.skops"
    skops.io.dump(scaler, path)
    with pytest.raises(ArtifactError, match=rf"holds the type\(s\) \['{named}'\].*not loaded"):
        load_scaler(str(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "scaler file scaler.skops is missing"),
        (b"", "scaler file scaler.skops is empty"),
        (bytes(range(256)), "scaler file scaler.skops is not a skops file"),
    ],
)
def test_a_broken_scaler_file_is_named(tmp_path, content, problem):
    path = tmp_path / "scaler.skops"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArtifactError, match=problem):
        load_scaler(str(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "network file model.keras is missing"),
        (b"", r"network file model.keras is empty \(0 bytes\)"),
        (b"not a zip" * 10, "network file model.keras is not a readable Keras model"),
    ],
)
def test_a_broken_network_file_is_named(tmp_path, content, problem):
    path = tmp_path / "model.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArtifactError, match=problem):
        load_network(str(path))
