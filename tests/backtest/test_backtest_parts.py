"""Origins and refits, baselines and statistics on tiny hand-checked series."""

from __future__ import annotations

import numpy as np
import pytest

from cryptopythia.backtest.baselines import (
    drift,
    fit_statistical,
    forecast_statistical,
    moving_average,
    naive,
    seasonal_naive,
)
from cryptopythia.backtest.origins import make_refits
from cryptopythia.backtest.volatility import bounds, random_walk_sigmas
from cryptopythia.model.statistics import (
    diebold_mariano,
    interval_score,
    one_sided_p_values,
)

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
    fitted = fit_statistical(trend[:150], "AutoETS", 1)
    forecast = forecast_statistical(fitted, trend, 5)  # run on to the last close
    assert forecast.shape == (5,)
    assert np.all(np.diff(forecast) > 0) and forecast[0] > trend[-1] * 0.99
    with pytest.raises(ValueError, match="is not one of AutoETS"):
        fit_statistical(trend, "Prophet", 1)


def test_dense_refits_expanding_and_sliding():
    refits = make_refits(
        n_rows=100,
        n_origins=25,
        origin_step=1,
        refit_every=10,
        window="expanding",
        window_size=None,
        min_train_rows=20,
    )
    assert [(r.train_start, r.origins[0], r.origins[-1]) for r in refits] == [
        (0, 75, 84),
        (0, 85, 94),
        (0, 95, 99),
    ]
    assert sum(len(r.origins) for r in refits) == 25  # an origin at every candle
    sparse = make_refits(100, 25, 5, 10, "sliding", 30, 20)
    assert [(r.train_start, r.origins) for r in sparse] == [
        (45, (75, 80)),
        (55, (85, 90)),
        (65, (95,)),
    ]


def test_no_refit_trains_on_or_after_any_of_its_origins():
    for refit in make_refits(500, 300, 1, 17, "sliding", 200, 50):
        train_rows = np.arange(refit.train_start, refit.train_end)
        assert train_rows.max() < min(refit.origins)
        assert list(refit.origins) == list(range(refit.origins[0], refit.origins[-1] + 1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_origins": 90}, "cannot hold 90 origins"),
        ({"window": "sliding", "window_size": 5}, "window_size must be >= 20"),
    ],
)
def test_bad_walk_forward_parameters(kwargs, message):
    args = {
        "n_rows": 100,
        "n_origins": 25,
        "origin_step": 1,
        "refit_every": 10,
        "window": "expanding",
        "window_size": None,
        "min_train_rows": 20,
    }
    with pytest.raises(ValueError, match=message):
        make_refits(**{**args, **kwargs})


def test_random_walk_intervals_grow_with_the_step_and_never_look_ahead():
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.02, 600)))
    settings = {"ewma_decay": 0.94, "ewma_window": 100}
    ewma = random_walk_sigmas(closes, [500, 501], 4, settings, "ewma", train_start=0)
    np.testing.assert_allclose(ewma[:, 3] / ewma[:, 0], 2.0)  # sigma * sqrt(4)
    garch = random_walk_sigmas(closes, [500, 501], 4, settings, "garch", train_start=0)
    assert garch.shape == (2, 4) and np.all(np.diff(garch, axis=1) > 0)
    assert 0.01 < garch[0, 0] < 0.04  # near the simulated 2% daily volatility
    for volatility in ("ewma", "garch"):  # the closes at and after an origin are unknown
        shocked = closes.copy()
        shocked[501:] *= 3.0
        again = random_walk_sigmas(shocked, [500, 501], 4, settings, volatility, train_start=0)
        expected = ewma if volatility == "ewma" else garch
        np.testing.assert_allclose(again, expected, rtol=1e-12)
    lower, upper = bounds(100.0, np.array([0.1]), 0.8)
    assert lower[0] * upper[0] == pytest.approx(100.0**2)  # symmetric in log space
    assert np.log(upper[0] / 100) == pytest.approx(1.2815515655 * 0.1)


def test_interval_score_and_one_sided_p_values():
    actual = np.array([5.0, 12.0, 0.0])
    # widths 10; misses: 12 is 1 above 11, 0 is 1 below 1; alpha = 0.2 -> 10 per unit
    np.testing.assert_allclose(
        interval_score(actual, np.ones(3), np.full(3, 11.0), 0.8), [10.0, 20.0, 20.0]
    )
    better, worse = one_sided_p_values(-2.5, 100)
    assert better < 0.01 and worse > 0.99 and better + worse == pytest.approx(1.0)


def test_diebold_mariano_by_hand():
    model = np.array([1.0, -1.0, 2.0, 0.0])
    reference = np.array([2.0, -2.0, 2.0, 1.0])
    # d = e_m^2 - e_r^2 = [-3, -3, 0, -1]; mean -1.75; var (biased) = 1.6875
    statistic, p_value = diebold_mariano(model, reference, horizon=1)
    raw = -1.75 / np.sqrt(1.6875 / 4)
    assert statistic == pytest.approx(raw * np.sqrt((4 + 1 - 2) / 4))
    assert 0 < p_value < 0.2
    assert diebold_mariano(model, model)[1] == 1.0


@pytest.mark.parametrize(
    "interval, expected",
    [("15m", 96), ("1h", 24), ("4h", 6), ("1d", 7), ("3d", 2), ("1w", 52), ("1M", 12)],
)
def test_seasonal_period_by_interval(interval, expected):
    from cryptopythia.backtest.baseline_walk import season_length

    assert season_length(interval, None) == expected
    assert season_length(interval, 5) == 5


def test_mlflow_metrics_keep_every_step_of_the_network():
    import pandas as pd

    from cryptopythia.backtest.scoring import backtest_metrics

    scores = pd.DataFrame(
        {
            "model": ["net", "net", "net"],
            "scope": ["overall", "step", "step"],
            "key": ["all", 1, 2],
            "n": [4, 2, 2],
            "rmse_ratio_to_naive": [0.9, 0.8, 1.0],
        }
    )
    metrics = backtest_metrics(scores, "net")
    assert metrics["net.rmse_ratio_to_naive"] == {"value": 0.9, "step": 0}
    assert metrics["net.step.rmse_ratio_to_naive"] == [
        {"value": 0.8, "step": 1},
        {"value": 1.0, "step": 2},
    ]
