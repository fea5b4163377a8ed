"""Folds, baselines and statistics on tiny hand-checked series."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.backtest.baselines import (
    drift,
    moving_average,
    naive,
    seasonal_naive,
    statistical,
)
from cryptopythia.backtest.folds import make_folds
from cryptopythia.model.statistics import conformal_log_radius, diebold_mariano

SERIES = np.array([10.0, 12.0, 11.0, 13.0, 14.0, 12.0, 15.0])


def test_baselines_by_hand():
    assert naive(SERIES, 3).tolist() == [15.0, 15.0, 15.0]
    # drift: (15 - 10) / 6 per step
    assert drift(SERIES, 3) == pytest.approx([15 + 5 / 6, 15 + 10 / 6, 15 + 15 / 6])
    # season of 3: the last three closes 14, 12, 15 repeat
    assert seasonal_naive(SERIES, 4, 3).tolist() == [14.0, 12.0, 15.0, 14.0]
    assert moving_average(SERIES, 2, 3).tolist() == [41 / 3, 41 / 3]


def test_statistical_baseline_follows_a_trend_and_rejects_unknown_models():
    trend = np.exp(np.linspace(np.log(100), np.log(200), 200))
    forecast = statistical(trend, 5, "AutoETS", 1)
    assert forecast.shape == (5,)
    assert np.all(np.diff(forecast) > 0) and forecast[0] > trend[-1] * 0.99
    with pytest.raises(ValueError, match="is not one of AutoETS"):
        statistical(trend, 5, "Prophet", 1)


def test_folds_expanding_and_sliding():
    folds = make_folds(n_rows=100, n_folds=3, step=10, horizon=5, min_train_rows=20)
    assert [(f.train_start, f.origin, f.test_end) for f in folds] == [
        (0, 75, 80),
        (0, 85, 90),
        (0, 95, 100),
    ]
    sliding = make_folds(100, 3, 10, 5, window="sliding", window_size=30, min_train_rows=20)
    assert [(f.train_start, f.origin) for f in sliding] == [(45, 75), (55, 85), (65, 95)]


def test_no_fold_trains_on_or_after_its_origin():
    for fold in make_folds(500, 12, 17, 7, window="sliding", window_size=200, min_train_rows=50):
        train_rows = np.arange(fold.train_start, fold.origin)
        test_rows = np.arange(fold.origin, fold.test_end)
        assert train_rows.max() < test_rows.min()
        assert len(test_rows) == 7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_folds": 50}, "cannot hold 50 folds"),
        ({"step": 0}, "step must be >= 1"),
        ({"window": "rolling"}, "'expanding' or 'sliding'"),
        ({"window": "sliding", "window_size": 5}, "window_size must be >= 20"),
    ],
)
def test_bad_fold_parameters(kwargs, message):
    args = {"n_rows": 100, "n_folds": 3, "step": 10, "horizon": 5, "min_train_rows": 20}
    with pytest.raises(ValueError, match=message):
        make_folds(**{**args, **kwargs})


def test_diebold_mariano_by_hand():
    model = np.array([1.0, -1.0, 2.0, 0.0])
    reference = np.array([2.0, -2.0, 2.0, 1.0])
    # d = e_m^2 - e_r^2 = [-3, -3, 0, -1]; mean -1.75; var (biased) = 1.6875
    statistic, p_value = diebold_mariano(model, reference, horizon=1)
    raw = -1.75 / np.sqrt(1.6875 / 4)
    assert statistic == pytest.approx(raw * np.sqrt((4 + 1 - 2) / 4))
    assert 0 < p_value < 0.2
    assert diebold_mariano(model, model)[1] == 1.0


def test_conformal_radius_is_the_finite_sample_quantile():
    actual = np.exp(np.array([0.1, -0.2, 0.3, -0.4, 0.5, 0.05, -0.15, 0.25, -0.35]))
    forecast = np.ones(9)
    # n = 9, coverage 0.8 -> rank ceil(10 * 0.8) = 8 of the sorted |scores|
    assert conformal_log_radius(actual, forecast, 0.8) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="cannot calibrate a 95% interval"):
        conformal_log_radius(actual, forecast, 0.95)


def test_a_non_positive_forecast_counts_as_infinitely_wrong():
    actual = np.full(9, 100.0)
    forecast = np.array([100.0] * 7 + [-5.0, 0.0])
    # 7 exact scores then two infinite ones: the 80% rank (8 of 9) is infinite.
    assert conformal_log_radius(actual, forecast, 0.8) == np.inf
    assert conformal_log_radius(actual, forecast, 0.7) == 0.0


@pytest.mark.parametrize(
    "interval, expected",
    [("15m", 96), ("1h", 24), ("4h", 6), ("1d", 7), ("3d", 2), ("1w", 52), ("1M", 12)],
)
def test_seasonal_period_by_interval(interval, expected):
    from cryptopythia.backtest.walk_forward import season_length

    assert season_length(interval, None) == expected
    assert season_length(interval, 5) == 5
