"""The monitor's numbers against a hand computation on a small ledger, its tests against
their textbook formulas, and its status on simulated deployments: a forecaster whose
market doubled its variance is alarmed within the status window, a calm one is not."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from cryptopythia.monitoring.realised import pair_forecasts, realised_forecasts
from cryptopythia.monitoring.scores import (
    christoffersen_p_value,
    kupiec_p_value,
    rolling_scores,
    score_windows,
)
from cryptopythia.monitoring.status import status_over_time, version_statuses

from conftest import PROJECT_ROOT
from support.monitoring import simulated_deployment

NOW = pd.Timestamp("2030-01-01", tz="UTC")
EWMA = {"volatility": "ewma", "ewma_decay": 0.5, "ewma_window": 3}
CLOSES = [100.0, 110.0, 99.0, 104.0, 100.0, 101.0, 98.0, 102.0, 103.0]


def small_silver() -> pd.DataFrame:
    open_time = pd.date_range("2025-01-01", periods=len(CLOSES), freq="D", tz="UTC")
    return pd.DataFrame(
        {
            "open_time": open_time,
            "close": CLOSES,
            "close_time": open_time + pd.Timedelta(days=1) - pd.Timedelta(milliseconds=1),
            "was_filled": [False] * 6 + [True, False, False],  # day 7 is a filled gap
        }
    )


def small_ledger() -> pd.DataFrame:
    """Step-1 forecasts from days 5 to 9 (targets 6 to 10), each under two aliases."""
    origins = pd.date_range("2025-01-05", periods=5, freq="D", tz="UTC")
    forecast = np.array([100.0, 102.0, 97.0, 99.0, 103.0])
    rows = pd.DataFrame(
        {
            "model_name": "btc_forecaster",
            "model_version": "2",
            "symbol": "BTCUSDT",
            "interval": "1d",
            "origin": origins,
            "step": 1,
            "target_time": origins + pd.Timedelta(days=1),
            "forecast_close": forecast,
            "lower_80": forecast - 2.0,
            "upper_80": forecast + 2.0,
            "recorded_at": origins,
        }
    )
    return pd.concat(
        [rows.assign(model_alias="staging"), rows.assign(model_alias="champion")],
        ignore_index=True,
    )


def test_monitor_numbers_equal_a_hand_computation():
    forecasts = pair_forecasts(small_ledger(), "BTCUSDT", "1d")
    assert len(forecasts) == 5  # one per origin: the two aliases made the same forecast
    realised = realised_forecasts(forecasts, small_silver(), NOW, EWMA)
    # day 7 is filled: neither the forecast for it nor the one from it is scored; the one
    # for day 10 waits for its candle
    assert realised["target_time"].dt.day.tolist() == [6, 9]
    assert realised["actual"].tolist() == [101.0, 103.0]
    assert realised["last_close"].tolist() == [100.0, 102.0]

    # EWMA at the origin (day 5, row 4): returns into rows 4, 3, 2, weights 1, 1/2, 1/4
    r = np.diff(np.log(CLOSES))
    sigma = math.sqrt((r[3] ** 2 + 0.5 * r[2] ** 2 + 0.25 * r[1] ** 2) / 1.75)
    z = stats.norm.ppf(0.9)
    assert realised["rw_lower_80"].iloc[0] == pytest.approx(100.0 * math.exp(-z * sigma))
    assert realised["rw_upper_80"].iloc[0] == pytest.approx(100.0 * math.exp(z * sigma))

    scores = score_windows(realised, [1]).set_index("window")
    everything = scores.loc["all"]
    # forecasts 100 [98, 102] vs 101: inside, score 4; 99 [97, 101] vs 103: 2 above,
    # score 4 + 2 / 0.2 * 2 = 24
    assert everything["n"] == 2 and everything["coverage_80"] == 0.5
    assert everything["interval_score_80"] == pytest.approx((4.0 + 24.0) / 2)
    assert everything["rmse"] == pytest.approx(math.sqrt((1**2 + 4**2) / 2))
    assert everything["naive_rmse"] == pytest.approx(1.0)
    assert everything["coverage_80_p"] == pytest.approx(stats.binomtest(1, 2, 0.8).pvalue)
    last = scores.loc["last_1"]
    assert last["n"] == 1 and last["last_origin"] == "2025-01-08T00:00:00+00:00"


def test_a_candle_that_has_not_closed_by_the_clock_is_never_scored():
    forecasts = pair_forecasts(small_ledger(), "BTCUSDT", "1d")
    # day 9's candle (the target of day 8's forecast) is in silver but closes at 23:59:59
    before_it_closes = pd.Timestamp("2025-01-09T12:00", tz="UTC")
    realised = realised_forecasts(forecasts, small_silver(), before_it_closes, EWMA)
    assert realised["target_time"].dt.day.tolist() == [6]


def test_kupiec_and_christoffersen_follow_their_formulas():
    hits = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0], dtype=bool)  # 3 of 10 at p = 0.1
    n, x, p = 10, 3, 0.1
    ratio = -2 * (
        (n - x) * math.log(1 - p) + x * math.log(p) - (n - x) * math.log(0.7) - x * math.log(0.3)
    )
    assert kupiec_p_value(hits, p) == pytest.approx(stats.chi2.sf(ratio, 1))
    # transitions: 0->0: 4, 0->1: 2, 1->0: 2, 1->1: 1
    pi0, pi1, pi = 2 / 6, 1 / 3, 3 / 9
    markov = 4 * math.log(1 - pi0) + 2 * math.log(pi0) + 2 * math.log(1 - pi1) + math.log(pi1)
    independent = 6 * math.log(1 - pi) + 3 * math.log(pi)
    expected = stats.chi2.sf(-2 * (independent - markov), 1)
    assert christoffersen_p_value(hits) == pytest.approx(expected)
    clustered = np.array([0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    assert christoffersen_p_value(clustered) < 0.05


def project_settings() -> tuple[dict, dict]:
    base = PROJECT_ROOT / "conf" / "base"
    intervals = yaml.safe_load((base / "parameters_modelling.yml").read_text())["modelling"]
    monitor = yaml.safe_load((base / "parameters_monitor.yml").read_text())["monitor"]
    return intervals["intervals"], monitor


def statuses(seed: int, change: int | None) -> pd.Series:
    intervals, monitor = project_settings()
    silver, ledger = simulated_deployment(seed, 330, 200, change)
    realised = realised_forecasts(pair_forecasts(ledger, "SIMUSDT", "1d"), silver, NOW, intervals)
    rolling = rolling_scores(realised, 1, int(monitor["status"]["window"]))
    return pd.Series(status_over_time(rolling, monitor["status"]).to_numpy(), rolling["origin"])


def test_a_doubled_variance_is_alarmed_within_the_window_and_a_calm_market_is_not():
    # One seeded deployment each: a regression pin of the status rule. How often the rule
    # is this quick, or cries wolf, over many seeds: benchmarks/monitor_alarms.py.
    window = project_settings()[1]["status"]["window"]
    drifted = statuses(seed=7, change=260)
    after = drifted[drifted.index > pd.Timestamp("2021-01-01", tz="UTC") + pd.Timedelta(days=260)]
    assert (after.iloc[:window] == "alarm").any(), after.iloc[:window].value_counts()
    assert (drifted[: after.index[0]] != "alarm").all()  # nothing before the change
    assert (statuses(seed=7, change=None) != "alarm").all()


def test_the_status_of_each_version_names_its_reasons():
    _, monitor = project_settings()
    intervals = project_settings()[0]
    silver, ledger = simulated_deployment(3, 330, 200, 260, factor=4.0)  # clearly drifted
    realised = realised_forecasts(pair_forecasts(ledger, "SIMUSDT", "1d"), silver, NOW, intervals)
    verdict = version_statuses(score_windows(realised, [30, 90]), monitor).iloc[0]
    assert verdict["status"] == "alarm" and "80% coverage" in verdict["reasons"]
    assert verdict["origins"] == 30


def test_the_report_draws_every_chart_over_target_candles_with_each_points_band():
    """Charts 2 and 3 are drawn at the target candle of each window's last forecast, as
    chart 1 is, and the x axis says so; the calibrated band of an early point is that of
    the origins its window holds, wider than a full window's."""
    from cryptopythia.monitoring.report import TIME_AXIS, acceptance_band, monitoring_figure

    intervals, monitor = project_settings()
    window = int(monitor["status"]["window"])
    silver, ledger = simulated_deployment(5, 300, 240, None)
    realised = realised_forecasts(pair_forecasts(ledger, "SIMUSDT", "1d"), silver, NOW, intervals)
    rolling = rolling_scores(realised, 1, window)
    report = {
        "status_rule": monitor["status"],
        "versions": [{"model_version": "1", "status": "ok"}],
    }
    figure = monitoring_figure(realised, rolling, report, "SIMUSDT")

    targets = pd.to_datetime(realised.sort_values("origin")["target_time"], utc=True).tolist()
    assert pd.to_datetime(rolling["target_time"], utc=True).tolist() == targets
    coverage_line = next(t for t in figure.data if t.name == "sim_forecaster v1 80% coverage")
    ratio_line = next(t for t in figure.data if t.name == "sim_forecaster v1 80% score ratio")
    for line in (coverage_line, ratio_line):
        assert pd.to_datetime(list(line.x), utc=True).tolist() == targets
    assert figure.layout.xaxis3.title.text == TIME_AXIS

    band = next(t for t in figure.data if t.name == "sim_forecaster v1 80% calibrated band")
    points = len(rolling)
    upper, lower = list(band.y[:points]), list(band.y[points:])[::-1]
    assert (lower[4], upper[4]) == acceptance_band(0.8, 5)  # the fifth origin: 5 in its window
    assert (lower[-1], upper[-1]) == acceptance_band(0.8, window)
    assert upper[4] - lower[4] > upper[-1] - lower[-1]
