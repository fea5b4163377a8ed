"""The DaskRunner's concurrency limits on a real LocalCluster: with ``update_bronze: 1`` the
pairs' fetches from the (fake, slow) Binance never overlap, though two workers are free;
without the limit they do."""

from __future__ import annotations

import threading

import pytest

from cryptopythia.runners import DaskRunner

from conftest import run_kedro
from support.fake_binance import make_klines, point_catalog_at
from support.pairs import list_pairs

pytestmark = pytest.mark.slow

CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "tensorflow_threads": 1, "retries": 0}
LIVE = {"data_engineering.start_date": "2015-01-01", "data_engineering.fetch.max_tries": 2}


def fetch_windows(spans: list[tuple[str, float, float]]) -> dict[str, tuple[float, float]]:
    """Per symbol: from its first kline request's start to its last one's end."""
    windows: dict[str, tuple[float, float]] = {}
    for symbol, start, end in spans:
        first, last = windows.get(symbol, (start, end))
        windows[symbol] = (min(first, start), max(last, end))
    return windows


def overlap(windows: dict[str, tuple[float, float]]) -> float:
    (a_start, a_end), (b_start, b_end) = windows.values()
    return min(a_end, b_end) - max(a_start, b_start)


@pytest.mark.parametrize("limits", [{"update_bronze": 1}, {}], ids=["limited", "unlimited"])
def test_fetches_of_the_pairs_share_one_limit(kedro_project, fake_binance, limits):
    point_catalog_at(kedro_project, fake_binance)
    fake_binance.symbols = {
        "ETHUSDT": {"1d": make_klines(2500, "1d", seed=1)},  # 3 pages each
        "SOLUSDT": {"1d": make_klines(2500, "1d", seed=2)},
    }
    fake_binance.latency_seconds = 0.6
    if not limits:  # the control: both first requests are answered together, if both come
        fake_binance.first_requests_meet = threading.Barrier(2, timeout=120)
    list_pairs(kedro_project, "local", ["ETHUSDT", "SOLUSDT"], ["1d"])

    runner = DaskRunner(cluster={**CLUSTER, "concurrency_limits": limits})
    run_kedro(kedro_project, "data_engineering", params=LIVE, runner=runner)

    windows = fetch_windows(fake_binance.kline_spans)
    assert set(windows) == {"ETHUSDT", "SOLUSDT"}
    for namespace in ("ethusdt_1d", "solusdt_1d"):
        assert (kedro_project / "data/02_intermediate/pairs" / namespace / "silver.csv").exists()
    if limits:
        assert overlap(windows) < 0, windows  # one pair's fetch ended before the other's began
    else:
        assert overlap(windows) > 0, windows  # the control: free workers fetch side by side


def test_a_bad_limit_is_refused_with_the_fix(kedro_project):
    runner = DaskRunner(cluster={**CLUSTER, "concurrency_limits": {"update_bronze": 0}})
    with pytest.raises(ValueError, match=r"concurrency_limits.update_bronze=0.*whole number"):
        run_kedro(kedro_project, "data_engineering", env="offline", runner=runner)
