"""Silver -> gold (cryptopythia.features): columns, no look-ahead, time features, FFT."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from cryptopythia.features import (
    build_gold,
    check_parameters,
    check_silver,
    compute_features,
    drop_warmup,
    plan_logging,
)
from cryptopythia.features.parameters import interval_seconds
from cryptopythia.features.silver import SILVER_COLUMNS
from cryptopythia.indicators import fft_dominant, log_return

from support.feature_candles import generated_silver, real_silver

DAILY_FEATURES = [
    "rsi_14", "macd", "macd_signal", "macd_hist",
    "bb_middle_20", "bb_upper_20", "bb_lower_20", "bb_percent_b_20", "bb_bandwidth_20",
    "atr_14", "stoch_k_14", "stoch_d_14", "obv", "roc_10",
    "sma_7", "std_7", "sma_14", "std_14", "sma_30", "std_30",
    "ema_12", "ema_26", "ema_50", "log_return",
    "close_lag_1", "close_lag_2", "close_lag_3", "close_lag_7",
    "log_return_lag_1", "log_return_lag_2", "log_return_lag_3", "log_return_lag_7",
    "dow_sin", "dow_cos", "dom_sin", "dom_cos", "month_sin", "month_cos",
    "fourier_sin_7d", "fourier_cos_7d", "fourier_sin_30_44d", "fourier_cos_30_44d",
    "fourier_sin_365_25d", "fourier_cos_365_25d",
    "fft_amp_1_64", "fft_period_1_64", "fft_amp_2_64", "fft_period_2_64",
    "fft_amp_3_64", "fft_period_3_64",
]  # fmt: skip


# --- columns and warm-up ---------------------------------------------------------------


def test_gold_has_silver_columns_then_the_planned_features(feature_params, caplog, monkeypatch):
    monkeypatch.setattr(plan_logging, "_LOGGED", set())  # as in a fresh process
    silver = generated_silver(300).assign(number_of_trades=1, quote_asset_volume=2.0)
    with caplog.at_level(logging.INFO):
        gold = build_gold(silver, feature_params, "1d")

    assert list(gold.columns) == [*SILVER_COLUMNS, *DAILY_FEATURES]
    assert (gold[DAILY_FEATURES].dtypes == "float64").all()
    assert np.isfinite(gold[DAILY_FEATURES].to_numpy()).all()
    # The longest window (fft.window=64) sets the warm-up; rows are aligned with silver's.
    assert len(gold) == 300 - 64
    pd.testing.assert_frame_equal(
        gold[list(SILVER_COLUMNS)], silver[list(SILVER_COLUMNS)].iloc[64:].reset_index(drop=True)
    )
    assert (
        "Dropped 64 warm-up rows of 300 (longest window: feature_engineering.fft.window=64)"
        in caplog.text
    )
    assert "Computed 50 feature columns: rsi_14, macd," in caplog.text


def test_the_plan_is_logged_once_not_once_per_recursive_forecast_step(
    feature_params, caplog, monkeypatch
):
    monkeypatch.setattr(plan_logging, "_LOGGED", set())  # as in a fresh process
    silver = generated_silver(200)
    with caplog.at_level(logging.DEBUG, logger="cryptopythia.features"):
        # The feature_engineering pipeline's steps, as a training run does first...
        config = check_parameters(feature_params, "1d")
        drop_warmup(compute_features(check_silver(silver, config), config), config)
        # ... then gold again, a candle longer at each step of a recursive forecast.
        for rows in (150, 151, 152):
            build_gold(silver.iloc[:rows], feature_params, "1d")
        build_gold(silver, feature_params, "4h")  # another plan: logged at INFO
    plan = [r for r in caplog.records if r.name.startswith("cryptopythia.features")]
    computed = [r.levelname for r in plan if r.getMessage().startswith("Computed 50 ")]
    assert computed == ["INFO", "DEBUG", "DEBUG", "DEBUG"]
    infos = [r.getMessage() for r in plan if r.levelno == logging.INFO]
    # 1d: hour-of-day skipped, 3 Fourier periods, columns, warm-up; 4h: no skip.
    assert len(infos) == 6 + 5
    assert "Dropped 64 warm-up rows of 200" in infos[5]
    assert infos[-2].startswith("Computed 52 feature columns")  # 4h: + hour_sin, hour_cos
    assert len(plan) == 6 * 4 + 5


def test_intraday_adds_hour_of_day_and_a_weekly_interval_drops_constant_parts(feature_params):
    four_hour = check_parameters(feature_params, "4h")["columns"]
    assert four_hour[: four_hour.index("dow_sin")] == [*DAILY_FEATURES[:32], "hour_sin", "hour_cos"]
    weekly = check_parameters(feature_params, "1w")["columns"]
    assert "dow_sin" not in weekly and "fourier_sin_7d" not in weekly
    assert {"dom_sin", "month_sin", "fourier_sin_30_44d"} <= set(weekly)


def test_each_family_is_switched_by_its_enabled_flag(feature_params):
    for family, block in feature_params.items():
        block["enabled"] = family == "rsi"
    feature_params["rsi"]["window"] = 21
    gold = build_gold(generated_silver(40), feature_params, "1d")
    assert list(gold.columns) == [*SILVER_COLUMNS, "rsi_21"]
    assert len(gold) == 40 - 21


def test_parameters_change_windows_and_names(feature_params):
    feature_params["rolling"]["windows"] = [5, 100]
    feature_params["fft"]["window"] = 32
    config = check_parameters(feature_params, "1d")
    assert {"sma_5", "std_100", "fft_amp_1_32"} <= set(config["columns"])
    assert (config["warmup"], config["warmup_source"]) == (
        99,
        "feature_engineering.rolling.windows=100",
    )


# --- no look-ahead ----------------------------------------------------------------------


def _assert_prefix_rows_identical(
    silver: pd.DataFrame, params: dict, interval: str, cuts: list[int]
):
    whole = build_gold(silver, params, interval)
    for cut in cuts:
        prefix = build_gold(silver.iloc[:cut], params, interval)
        assert len(prefix) == cut - (len(silver) - len(whole))
        pd.testing.assert_frame_equal(prefix, whole.iloc[: len(prefix)], check_exact=True)


def test_no_look_ahead_generated(feature_params):
    silver = generated_silver(1_500, interval="15m", seed=3)
    _assert_prefix_rows_identical(silver, feature_params, "15m", [65, 66, 200, 777, 1_499])


def test_no_look_ahead_on_real_4h_candles(feature_params):
    four_hour_silver = real_silver("4h")
    # The 4h candles include forward-filled gaps (was_filled, volume 0).
    _assert_prefix_rows_identical(
        four_hour_silver, feature_params, "4h", [65, 1_051, 1_060, 9_000, len(four_hour_silver) - 1]
    )


def test_changing_future_candles_does_not_change_past_features(feature_params):
    silver = generated_silver(400, seed=1)
    changed = silver.copy()
    changed.loc[250:, ["open", "high", "low", "close"]] *= 3.0
    changed.loc[250:, "volume"] = 1.0
    before = build_gold(silver, feature_params, "1d")
    after = build_gold(changed, feature_params, "1d")
    rows = 250 - 64  # gold row of silver row 249
    pd.testing.assert_frame_equal(before.iloc[:rows], after.iloc[:rows], check_exact=True)
    assert not before.iloc[rows:].equals(after.iloc[rows:])


# --- time features ----------------------------------------------------------------------


def test_calendar_features_encode_the_open_time(feature_params):
    silver = generated_silver(200, interval="1h")
    features = compute_features(
        check_silver(silver, cfg := check_parameters(feature_params, "1h")), cfg
    )
    row = features.loc[features["open_time"] == pd.Timestamp("2020-01-08 18:00", tz="UTC")].iloc[0]
    # 18:00 is 3/4 of the day; a Wednesday (Monday = 0); the 8th of a 31-day month; January.
    expected = {"hour": 0.75, "dow": 2 / 7, "dom": 7 / 31, "month": 0.0}
    for prefix, phase in expected.items():
        assert row[f"{prefix}_sin"] == pytest.approx(np.sin(2 * np.pi * phase), abs=1e-12)
        assert row[f"{prefix}_cos"] == pytest.approx(np.cos(2 * np.pi * phase), abs=1e-12)


def test_fourier_terms_repeat_every_period_in_candles(feature_params):
    interval = "4h"
    silver = generated_silver(600, interval=interval)
    gold = build_gold(silver, feature_params, interval)
    candles_per_week = 7 * 86_400 / interval_seconds(interval)  # 42 candles
    week = int(candles_per_week)
    np.testing.assert_allclose(
        gold["fourier_sin_7d"].iloc[week:].to_numpy(),
        gold["fourier_sin_7d"].iloc[:-week].to_numpy(),
        atol=1e-9,
    )
    angle = 2 * np.pi * np.arange(len(gold)) / candles_per_week
    # Phase-shift free check: sin/cos advance by one candle's angle every row.
    z = gold["fourier_cos_7d"].to_numpy() + 1j * gold["fourier_sin_7d"].to_numpy()
    np.testing.assert_allclose(z, z[0] * np.exp(1j * angle), atol=1e-9)


def test_fft_finds_a_planted_cycle_from_past_data_only():
    window, rows = 64, 300
    t = np.arange(rows)
    returns = 0.03 * np.sin(2 * np.pi * t / 8) + 0.01 * np.sin(2 * np.pi * t / 32)
    returns[0] = np.nan  # as log_return gives it
    amplitudes, periods = fft_dominant(returns, window, 2)
    assert np.isnan(amplitudes[:window]).all() and not np.isnan(amplitudes[window:]).any()
    np.testing.assert_allclose(periods[window:], np.tile([8.0, 32.0], (rows - window, 1)))
    np.testing.assert_allclose(
        amplitudes[window:], np.tile([0.03, 0.01], (rows - window, 1)), atol=1e-12
    )
    # Row t is the spectrum of returns[t - window + 1 .. t], computed directly.
    row = 200
    spectrum = np.abs(np.fft.rfft(returns[row - window + 1 : row + 1]))[1:]
    assert amplitudes[row, 0] == pytest.approx(2 / window * spectrum.max())


def test_log_return_and_lags(feature_params):
    silver = generated_silver(100)
    gold = build_gold(silver, feature_params, "1d")
    close = silver["close"].to_numpy()
    np.testing.assert_allclose(gold["log_return"], np.log(close[64:] / close[63:-1]))
    np.testing.assert_array_equal(gold["close_lag_7"], close[64 - 7 : -7])
    np.testing.assert_array_equal(gold["log_return_lag_3"], log_return(close)[64 - 3 : -3])
