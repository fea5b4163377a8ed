"""The forecast tour notebook, executed headless (nbclient) after a real training run on
the candle snapshot: every cell runs, every chart is drawn, the registered model is read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import mlflow
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

NOTEBOOK = PROJECT_ROOT / "notebooks" / "01_forecast_tour.ipynb"
BENCHMARK = Path("benchmarks") / "results" / "skill_1d.json"


def outputs_of(cell: nbformat.NotebookNode) -> tuple[str, int]:
    """A code cell's printed text and its number of drawn images."""
    text = "".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for output in cell.get("outputs", [])
    )
    images = sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
    return text, images


def test_the_tour_runs_on_a_trained_project(network_project: Path):
    kedro_project = network_project
    for folder in ("notebooks", "src"):  # Kedro's IPython extension bootstraps from src/
        shutil.copytree(
            PROJECT_ROOT / folder,
            kedro_project / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints"),
        )
    (kedro_project / BENCHMARK).parent.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / BENCHMARK, kedro_project / BENCHMARK)

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(kedro_project / "notebooks")}},
    ).execute()  # raises CellExecutionError, with the cell, if any cell fails

    outputs = [outputs_of(cell) for cell in notebook.cells if cell.cell_type == "code"]
    text = "\n".join(t for t, _ in outputs)
    assert sum(images for _, images in outputs) >= 5  # candles, features, test, backtest, fan
    assert "benchmarks/results/skill_1d.json" in text  # no backtest ran: the committed one
    mlflow.set_tracking_uri(f"sqlite:///{kedro_project / 'mlflow.db'}")
    staging = mlflow.MlflowClient().get_model_version_by_alias("btc_forecaster", "staging")
    assert f"btc_forecaster v{staging.version} (staging)" in text
    shown = re.search(r"([\d,]+) candles, (\d{4}-\d{2}-\d{2}) \.\. ", text)  # gold read back
    assert shown and 0 < int(shown[1].replace(",", "")) <= 900 and shown[2] >= "2017-08-17"
