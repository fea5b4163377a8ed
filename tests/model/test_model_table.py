"""Unit tests of the modelling nodes: checks, split, leakage, windows, targets, metrics."""

from __future__ import annotations

import copy
import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from cryptopythia.model.choices import Target, allowed
from cryptopythia.model.evaluation import evaluate_forecasts
from cryptopythia.model.network import conv_output_length, minimum_timesteps
from cryptopythia.model.scaling import fit_scaler, inverse_target, scale_table
from cryptopythia.model.split import hold_out_calibration, split_chronologically
from cryptopythia.model.table import check_modelling_params, prepare_model_table
from cryptopythia.model.targets import make_target, target_to_close
from cryptopythia.model.windows import target_paths, window_dataset, window_view
from cryptopythia.parameters import check_parameters

from support.modelling import PARAMS, UNITS, make_gold


def params(**overrides) -> dict:
    result = copy.deepcopy(PARAMS)
    result.update(overrides)
    return result


def indexed_table(n_rows: int, kind: str = "log_return") -> tuple[pd.DataFrame, dict]:
    """A table whose feature ``row`` is the row number, to trace where windows come from."""
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.02, n_rows)))
    gold = pd.DataFrame(
        {
            "open_time": pd.date_range("2020-01-01", periods=n_rows, freq="D", tz="UTC"),
            "close": close,
            "row": np.arange(n_rows, dtype="float64"),
        }
    )
    return prepare_model_table(
        gold, params(features=["row"], target=kind, n_timesteps=46, horizon=3), {"row": "free"}
    )


# ------------------------------------------------------------------------- checks


def test_the_default_stack_needs_46_timesteps_and_the_seeds_35_is_rejected():
    layers = PARAMS["layers"]
    assert minimum_timesteps(layers) == 46
    assert conv_output_length(46, layers) == 1
    assert conv_output_length(45, layers) == 0
    with pytest.raises(ValueError, match="the minimum n_timesteps is 46"):
        check_modelling_params(params(n_timesteps=35))
    same = {**layers, "padding": "same"}
    assert minimum_timesteps(same) == 16


@pytest.mark.parametrize(
    ("key", "value", "wrong"),
    [
        ("target", "price", r"modelling.target='price': .*'close', 'diff' or 'log_return'"),
        ("scaler", "maxabs", r"modelling.scaler='maxabs': .*'minmax', 'standard' or 'robust'"),
        ("precision", "float16", r"modelling.precision='float16': .*'auto', 'float32' or"),
        ("inputs", "raw", r"modelling.inputs='raw': .*'scale_free' or 'levels'"),
    ],
)
def test_unknown_target_scaler_precision_and_inputs_are_rejected(key, value, wrong):
    """The schema (one source of the allowed values) names the parameter, the value sent
    and the values allowed."""
    with pytest.raises(ValueError, match=wrong):
        check_parameters({"modelling": params(**{key: value})}, {"modelling"})


def test_gold_shorter_than_one_window_is_rejected():
    gold = make_gold(80)  # 54 rows after the warm-up, one window needs n_timesteps + horizon
    window = PARAMS["n_timesteps"] + PARAMS["horizon"]
    with pytest.raises(ValueError, match=f"fewer than one window.*= {window}"):
        prepare_model_table(gold, params(), UNITS)


@pytest.mark.parametrize("n_timesteps", [100_000, 99_998, 2_000])
def test_a_window_longer_than_gold_suggests_one_that_fits_every_part(n_timesteps):
    gold = make_gold(1000)
    with pytest.raises(ValueError, match="fewer than one window") as error:
        prepare_model_table(gold, params(n_timesteps=n_timesteps), UNITS)
    suggested = [int(n) for n in re.findall(r"modelling.n_timesteps=(\d+)", str(error.value))]
    assert suggested and all(n < n_timesteps for n in suggested), str(error.value)
    # the suggestion runs: the table, the split and the calibration hold-out all fit it
    fit = params(n_timesteps=suggested[-1])
    table, spec = prepare_model_table(gold, fit, UNITS)
    _, validation, _ = split_chronologically(table, fit["split"], suggested[-1], spec.horizon)
    calibration_fraction = fit["shrinkage"]["calibration_fraction"]
    hold_out_calibration(validation, calibration_fraction, suggested[-1], spec.horizon)


def test_a_window_the_stack_does_not_see_whole_suggests_only_windows_that_fit():
    gold = make_gold(1000)  # 974 rows; the smallest part of the split: 97
    with pytest.raises(ValueError, match="never passes the newest") as error:
        prepare_model_table(gold, params(n_timesteps=500), UNITS)  # fits gold, not a part
    suggested = [int(n) for n in re.findall(r"\b(\d+)\b", str(error.value).split("whole (")[1])]
    assert suggested and all(n + PARAMS["horizon"] <= 97 for n in suggested), str(error.value)


def test_a_part_of_the_split_too_short_for_the_window_says_how_short_to_make_it():
    table, spec = prepare_model_table(make_gold(1000), params(n_timesteps=510), UNITS)
    with pytest.raises(ValueError, match="part of the chronological split") as error:
        split_chronologically(table, PARAMS["split"], 510, spec.horizon)
    at_most = int(re.search(r"modelling.n_timesteps to (\d+) or less", str(error.value))[1])
    assert at_most == 146 - spec.horizon  # the smallest part, test, holds one window
    fraction = PARAMS["shrinkage"]["calibration_fraction"]
    validation = table.iloc[:195]
    with pytest.raises(ValueError, match="calibration") as error:
        hold_out_calibration(validation, fraction, 510, spec.horizon)
    at_most = int(re.search(r"modelling.n_timesteps to (\d+) or less", str(error.value))[1])
    assert at_most == 97 - spec.horizon


def test_a_window_no_part_of_gold_can_hold_says_so_without_a_number():
    gold = make_gold(150)  # a calibration part of ~12 rows: no window of the stack fits
    with pytest.raises(ValueError, match="fewer than one window") as error:
        prepare_model_table(gold, params(n_timesteps=100_000), UNITS)
    assert not re.search(r"n_timesteps=\d", str(error.value))
    assert "longer history" in str(error.value)


def test_features_all_takes_numeric_columns_but_timestamps_and_lists_are_checked():
    gold = make_gold(120)
    table, spec = prepare_model_table(gold, params(), UNITS)
    assert "open_time" not in spec.features and "close_time" not in spec.features
    # scale-free inputs: levels as log ratios to the close, spreads as shares of it
    assert {"log_return", "macd_rel", "ema_12_rel", "volume_rel", "was_filled"} <= set(
        spec.features
    )
    assert "close" not in spec.features and "macd" not in spec.features
    assert spec.scaler_columns[-1] == "target_log_return"
    _, levels = prepare_model_table(gold, params(inputs="levels"), UNITS)
    assert {"close", "log_return", "macd", "was_filled"} <= set(levels.features)
    assert spec.interval == "1d"
    with pytest.raises(ValueError, match="does not have: \\['rsi_99'\\]"):
        prepare_model_table(gold, params(features=["close", "rsi_99"]), UNITS)


# -------------------------------------------------------------------------- split


def test_split_is_chronological_with_fractions_or_dates():
    table, spec = indexed_table(400)
    train, validation, test = split_chronologically(table, {"validation": 0.2, "test": 0.25}, 46, 3)
    assert (len(train), len(validation), len(test)) == (220, 80, 100)
    assert train["open_time"].max() < validation["open_time"].min()
    assert validation["open_time"].max() < test["open_time"].min()
    assert pd.concat([train, validation, test])["row"].tolist() == list(range(400))

    by_date = split_chronologically(
        table, {"validation": "2020-08-01", "test": "2020-11-01"}, 46, 3
    )
    assert by_date[1]["open_time"].iloc[0] == pd.Timestamp("2020-08-01", tz="UTC")
    assert by_date[2]["open_time"].iloc[0] == pd.Timestamp("2020-11-01", tz="UTC")


@pytest.mark.parametrize(
    ("split", "part"),
    [
        ({"validation": 0.15, "test": 0.01}, "test"),
        ({"validation": "2020-02-01", "test": "2020-02-10"}, "train"),
        ({"validation": "2021-01-01", "test": "2021-01-20"}, "validation"),
        ({"validation": "2020-06-01", "test": "2030-01-01"}, "test"),
    ],
)
def test_a_split_leaving_a_part_without_one_window_is_rejected(split, part):
    table, _ = indexed_table(400)
    with pytest.raises(ValueError, match=f"The {part} part .* needs at least .* = 49"):
        split_chronologically(table, split, 46, 3)


# ----------------------------------------------------------------------- leakage


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_scaler_statistics_are_the_training_rows_statistics(kind):
    # USD-level inputs: later prices leave the training range, and the scaler must not know
    table, spec = prepare_model_table(make_gold(700), params(scaler=kind, inputs="levels"), UNITS)
    train, validation, test = split_chronologically(table, PARAMS["split"], 60, 1)
    scaler = fit_scaler(train, spec)
    train_values = train[list(spec.scaler_columns)]
    assert list(scaler.feature_names_in_) == list(spec.scaler_columns)
    if kind == "minmax":
        np.testing.assert_allclose(scaler.data_min_, train_values.min())
        np.testing.assert_allclose(scaler.data_max_, train_values.max())
        everything = pd.concat([train, validation, test])[list(spec.scaler_columns)]
        assert (everything.max() > train_values.max()).any()  # later rows were not seen
    else:
        np.testing.assert_allclose(scaler.mean_, train_values.mean())


@pytest.mark.parametrize("horizon", [1, 3])
def test_no_window_or_target_crosses_a_split_boundary(horizon):
    table, spec = indexed_table(400)
    spec = dataclasses.replace(spec, horizon=horizon)
    parts = split_chronologically(table, {"validation": 0.2, "test": 0.2}, 46, horizon)
    identity = _IdentityScaler(list(spec.scaler_columns))
    for part in parts:
        rows = part["row"].to_numpy()
        scaled = scale_table(identity, part, spec)
        windows = window_view(scaled, 46, horizon)
        targets = target_paths(scaled, 46, horizon)
        assert len(windows) == len(targets) == len(part) - 46 - horizon + 1
        assert np.shares_memory(windows, scaled)  # a strided view, not 46 copies
        window_rows = windows[:, :, 0]
        assert window_rows.min() >= rows[0] and window_rows.max() <= rows[-1]
        # targets are the target column at rows t+1..t+horizon, t = the window's last row
        last_rows = window_rows[:, -1].astype(int) - int(rows[0])
        expected = np.stack(
            [scaled[last_rows + step, -1] for step in range(1, horizon + 1)], axis=1
        )
        np.testing.assert_array_equal(targets, expected)
        # the tf.data pipeline yields exactly the same pairs
        dataset = window_dataset(scaled, 46, horizon, batch_size=32)
        # autotuning off: its thread held each epoch's iterator shutdown (benchmarks/train.py)
        assert dataset.options().autotune.enabled is False
        batches = list(dataset)
        data_x = np.concatenate([x.numpy() for x, _ in batches])
        data_y = np.concatenate([y.numpy() for _, y in batches])
        np.testing.assert_array_equal(data_x, windows)
        np.testing.assert_array_equal(data_y, targets)


class _IdentityScaler:
    """Leaves values unchanged, so scaled windows show the row numbers."""

    def __init__(self, columns):
        self.feature_names_in_ = np.array(columns)
        self.n_features_in_ = len(columns)

    def transform(self, frame):
        return np.asarray(frame, dtype="float64")


# ------------------------------------------------------------------------ targets


@pytest.mark.parametrize("kind", allowed(Target))
@pytest.mark.parametrize("horizon", [1, 4])
def test_targets_convert_back_to_the_close(kind, horizon):
    close = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.03, 50))))
    target = make_target(close, kind).to_numpy()
    origins = np.arange(1, 50 - horizon)
    paths = np.stack([target[origins + step] for step in range(1, horizon + 1)], axis=1)
    closes = target_to_close(paths, close.to_numpy()[origins], kind)
    expected = np.stack(
        [close.to_numpy()[origins + step] for step in range(1, horizon + 1)], axis=1
    )
    np.testing.assert_allclose(closes, expected)


@pytest.mark.parametrize("kind", ["minmax", "standard", "robust"])
def test_inverse_target_undoes_the_scaling_of_the_target_column(kind):
    table, spec = prepare_model_table(make_gold(300), params(scaler=kind, target="diff"), UNITS)
    scaler = fit_scaler(table, spec)
    scaled = scale_table(scaler, table, spec)
    restored = inverse_target(scaler, scaled[1:, -1].reshape(-1, 1))
    expected = table["target_diff"].to_numpy()[1:]
    # float32 scaled values: exact to ~1e-7 of the column's range
    np.testing.assert_allclose(restored[:, 0], expected, atol=1e-6 * np.ptp(expected))


# ------------------------------------------------------------------------ metrics


def test_metrics_of_a_perfect_model_and_of_the_naive_forecast():
    actual = np.array([101.0, 99.0, 102.0, 104.0])
    last = np.array([100.0, 101.0, 99.0, 102.0])
    predictions = pd.DataFrame(
        {
            "step": 1,
            "actual_close": actual,
            "last_close": last,
            "predicted_close": actual,
            "naive_close": last,
        }
    )
    train = pd.DataFrame({"close_usd": [100.0, 102.0, 101.0, 105.0]})  # naive MAE 7/3
    metrics = evaluate_forecasts(predictions, train)
    assert metrics["rmse"] == 0 and metrics["mase"] == 0 and metrics["r2"] == 1
    assert metrics["directional_accuracy"] == 1 and metrics["rmse_ratio_to_naive"] == 0
    assert metrics["directional_calls"] == 1 and metrics["naive_directional_calls"] == 0
    assert "naive_directional_accuracy" not in metrics  # naive calls no direction
    assert metrics["naive_rmse"] == pytest.approx(np.sqrt(np.mean((actual - last) ** 2)))
    assert metrics["naive_mae"] == pytest.approx(2.0)
    assert metrics["naive_mase"] == pytest.approx(2.0 / (7 / 3))
    assert metrics["naive_mape"] == pytest.approx(np.mean(np.abs(actual - last) / actual))
    assert metrics["up_share"] == 0.75 and metrics["n_test_windows"] == 4
