"""The multi-step forecast: dates, direct/recursive consistency, scale invariance, shrinkage,
intervals, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptopythia.model.forecaster import forecast, steps_until
from cryptopythia.model.scaling import inverse_target, scale_table
from cryptopythia.model.targets import target_to_close
from cryptopythia.model.windows import last_windows

from support.feature_candles import real_silver
from support.forecasters import make_forecaster, make_silver


@pytest.fixture(scope="module")
def daily():
    silver = make_silver(260)
    return silver, make_forecaster(silver)


def test_steps_until_counts_candles_up_to_the_target():
    last = pd.Timestamp("2025-07-09", tz="UTC")
    assert steps_until(last, "2025-07-10", "1d") == 1
    assert steps_until(last, "2025-07-31", "1d") == 22
    assert steps_until(pd.Timestamp("2025-10-08 08:00", tz="UTC"), "2025-10-09", "4h") == 4
    with pytest.raises(ValueError, match="not after the last candle"):
        steps_until(last, "2025-07-09", "1d")
    with pytest.raises(ValueError, match="is not a date"):
        steps_until(last, "next tuesday", "1d")


@pytest.mark.parametrize(
    "interval, step", [("1d", pd.Timedelta(days=1)), ("4h", pd.Timedelta(hours=4))]
)
def test_forecast_dates_follow_the_last_candle(interval, step):
    silver = make_silver(200, interval)
    result = forecast(silver, make_forecaster(silver, interval), 8)
    expected = silver["open_time"].iloc[-1] + step * np.arange(1, 9)
    assert list(result["open_time"]) == list(expected)
    assert list(result["step"]) == list(range(1, 9))


def test_first_horizon_steps_are_the_direct_prediction(daily):
    silver, forecaster = daily
    from cryptopythia.features import build_gold
    from cryptopythia.model.table import model_table

    spec = forecaster.spec
    table = model_table(build_gold(silver, forecaster.feature_params, "1d"), spec)
    window = last_windows(scale_table(forecaster.scaler, table, spec), spec.n_timesteps)[-1:]
    raw = forecaster.model.predict(window, verbose=0)
    direct = target_to_close(
        inverse_target(forecaster.scaler, raw), table["close_usd"].to_numpy()[-1:], spec.target
    )[0]
    result = forecast(silver, forecaster, 3)
    np.testing.assert_allclose(result["forecast_close"], direct, rtol=1e-6)


def test_recursion_is_consistent_with_shorter_forecasts(daily):
    silver, forecaster = daily
    long = forecast(silver, forecaster, 10)
    short = forecast(silver, forecaster, 4)
    np.testing.assert_allclose(long["forecast_close"][:4], short["forecast_close"], rtol=1e-9)
    # Steps 4..6 come from a window that ends on the third forecast: feeding the first
    # three forecasts back as candles gives the same steps.
    from cryptopythia.model.forecaster import _synthetic_candles

    first = long["forecast_close"].to_numpy()[:3]
    volume = float(silver["volume"].iloc[-forecaster.spec.n_timesteps :].median())
    extended = pd.concat(
        [silver, _synthetic_candles(silver, first, "1d", volume)], ignore_index=True
    )
    np.testing.assert_allclose(
        forecast(extended, forecaster, 3)["forecast_close"], long["forecast_close"][3:6], rtol=1e-9
    )


def test_intervals_contain_the_forecast_and_widen_beyond_the_horizon(daily):
    silver, forecaster = daily
    result = forecast(silver, forecaster, 9)
    for coverage in ("80", "95"):
        assert (result[f"lower_{coverage}"] < result["forecast_close"]).all()
        assert (result["forecast_close"] < result[f"upper_{coverage}"]).all()
    assert (result["upper_95"] > result["upper_80"]).all()
    horizon = forecaster.spec.horizon
    radius = np.log(result["upper_80"] / result["forecast_close"]).to_numpy()
    assert np.all(np.diff(radius[horizon - 1 :]) > 0)  # GARCH variances add up beyond it
    # With EWMA volatility, beyond the horizon the radius grows like a random walk's.
    ewma = forecast(silver, make_forecaster(silver, volatility="ewma"), 9)
    radius = np.log(ewma["upper_80"] / ewma["forecast_close"]).to_numpy()
    np.testing.assert_allclose(
        radius[horizon:] / radius[horizon - 1],
        np.sqrt(np.arange(horizon + 1, 10) / horizon),
        rtol=1e-9,
    )


def test_scales_are_what_the_bounds_are_made_of(daily):
    """``sigma_log`` (what the ledger keeps) is the volatility the bounds are multiples of:
    the radius log(upper / forecast) over it is each coverage's quantile in sigmas, wider
    for 95% than for 80%."""
    silver, forecaster = daily
    plain = forecast(silver, forecaster, 9)
    result = forecast(silver, forecaster, 9, scales=True)
    assert "sigma_log" not in plain.columns
    pd.testing.assert_frame_equal(result[plain.columns], plain)
    assert (result["sigma_log"] > 0).all()
    in_sigmas = {
        coverage: np.log(result[f"upper_{coverage}"] / result["forecast_close"])
        / result["sigma_log"]
        for coverage in ("80", "95")
    }
    assert (in_sigmas["95"] > in_sigmas["80"]).all()


def test_prices_times_three_give_the_same_returns(daily):
    silver, forecaster = daily
    tripled = silver.copy()
    tripled[["open", "high", "low", "close"]] *= 3
    base, scaled = forecast(silver, forecaster, 5), forecast(tripled, forecaster, 5)
    for column in ("forecast_close", "lower_80", "upper_95"):
        np.testing.assert_allclose(scaled[column] / 3, base[column], rtol=1e-9)


def test_zero_shrinkage_forecasts_the_last_close(daily):
    silver, _ = daily
    naive = make_forecaster(silver, shrinkage=[0.0, 0.0, 0.0])
    result = forecast(silver, naive, 3)
    np.testing.assert_allclose(result["forecast_close"], silver["close"].iloc[-1], rtol=1e-12)


def test_zero_shrinkage_skips_the_network_and_changes_nothing(daily):
    """Weights 0 at every step: the replayed paths are exactly what shrinking the network's
    own paths gives, and the forecast is made without the network at all."""
    from dataclasses import replace

    from cryptopythia.features import build_gold
    from cryptopythia.model.forecaster import origin_paths
    from cryptopythia.model.shrinkage import shrink
    from cryptopythia.model.table import model_table

    silver, _ = daily
    naive = make_forecaster(silver, shrinkage=[0.0, 0.0, 0.0])
    spec = naive.spec
    table = model_table(build_gold(silver, naive.feature_params, "1d"), spec)
    windows = last_windows(scale_table(naive.scaler, table, spec), spec.n_timesteps)[-50:]
    raw = naive.model.predict(windows, verbose=0)
    last = table["close_usd"].to_numpy()[-50:]
    network = target_to_close(inverse_target(naive.scaler, raw), last, spec.target)
    assert not np.allclose(network, last[:, None])  # the network does move
    np.testing.assert_array_equal(
        origin_paths(naive, table, 50), shrink(network, last, np.zeros(3), spec.target)
    )
    without_network = replace(naive, model=None)
    pd.testing.assert_frame_equal(forecast(silver, without_network, 9), forecast(silver, naive, 9))


def test_too_few_candles_is_an_error(daily):
    silver, forecaster = daily
    with pytest.raises(ValueError, match=f"needs at least {forecaster.min_candles}"):
        forecast(silver.iloc[-(forecaster.min_candles - 1) :], forecaster, 1)


@pytest.fixture(scope="module")
def real_daily():
    """A forecaster on the latest real BTCUSDT daily candles (a 7-step network, GARCH)."""
    silver = real_silver("1d").iloc[-600:].reset_index(drop=True)
    return silver, make_forecaster(silver, horizon=7)


LEVELS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.45, 0.5, 0.55, 0.7, 0.8, 0.9, 0.95, 0.975]


def test_quantiles_never_cross_across_levels_nor_steps(real_daily):
    silver, forecaster = real_daily
    result = forecast(silver, forecaster, 12, quantiles=[*LEVELS, 0.99, 0.995])
    columns = [f"quantile_{level}" for level in [*LEVELS, 0.99, 0.995]]
    values = result[columns].to_numpy()
    assert np.all(np.diff(values, axis=1) >= 0)  # across levels, every step
    np.testing.assert_allclose(result["quantile_0.5"], result["forecast_close"], rtol=1e-12)
    # the bounds are quantiles of the same function: lower_80 is quantile_0.1, ...
    np.testing.assert_allclose(result["quantile_0.1"], result["lower_80"], rtol=1e-12)
    np.testing.assert_allclose(result["quantile_0.975"], result["upper_95"], rtol=1e-12)
    # across steps: the log distance to the forecast never shrinks further out, for every
    # quantile and every interval bound
    bounds = [c for c in result if c.startswith(("lower_", "upper_", "quantile_"))]
    radius = np.abs(np.log(result[bounds].to_numpy() / result[["forecast_close"]].to_numpy()))
    assert np.all(np.diff(radius, axis=0) >= -1e-12), result[bounds]


def test_quantiles_do_not_change_the_rest_of_the_forecast(real_daily):
    silver, forecaster = real_daily
    plain = forecast(silver, forecaster, 4)
    with_quantiles = forecast(silver, forecaster, 4, quantiles=[0.99, 0.01, 0.3])
    assert list(with_quantiles.columns[-3:]) == ["quantile_0.99", "quantile_0.01", "quantile_0.3"]
    pd.testing.assert_frame_equal(with_quantiles[plain.columns], plain)
