"""Training's console output: Keras' progress bar counts the epoch's real batches, never past
them (a newcomer once saw "16/15"), with steps_per_execution not dividing the batch count."""

from __future__ import annotations

import re

import pytest

from cryptopythia.features import build_gold, check_parameters
from cryptopythia.model.scaling import fit_scaler
from cryptopythia.model.split import split_chronologically
from cryptopythia.model.table import prepare_model_table
from cryptopythia.model.training import train_model
from cryptopythia.model.windows import count_windows

from support.forecasters import FEATURE_PARAMS, MODELLING, TINY_LAYERS, make_silver


@pytest.mark.slow  # trains a network
def test_progress_bar_stops_at_the_epoch_batch_count(capsys):
    params = {
        **MODELLING,
        "layers": TINY_LAYERS,
        "n_timesteps": 22,
        "horizon": 2,
        "epochs": 2,
        "batch_size": 16,
        "steps_per_execution": 4,  # executions of 4 batches over 4k + r batches
        "verbose": 1,
    }
    units = check_parameters(FEATURE_PARAMS, "1d")["units"]
    table, spec = prepare_model_table(
        build_gold(make_silver(700, seed=5), FEATURE_PARAMS, "1d"), params, units
    )
    train, validation, _ = split_chronologically(table, params["split"], params["n_timesteps"], 2)
    batches = -(-count_windows(len(train), params["n_timesteps"], 2) // 16)
    assert batches % 4 != 0, "the case under test: the last execution runs past the end"
    train_model(train, validation, fit_scaler(train, spec), spec, params)
    counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+)\b", capsys.readouterr().out)]
    steps = [(seen, total) for seen, total in counts if total == batches]
    assert steps, "Keras' progress bar printed no step count"
    assert all(seen <= total for seen, total in steps)
    assert (batches, batches) in steps
