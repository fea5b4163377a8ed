"""The real python-binance client against the local fake Binance server: paging, incremental
fetches, Binance's clock, retries, and an unreachable Binance failing fast."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import requests
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from cryptopythia.datasets import BinanceClientDataset
from cryptopythia.pipelines.data_engineering.nodes import update_bronze
from cryptopythia.sources.binance import BinanceFetchError, RetryPolicy, call_with_retries
from cryptopythia.sources.bronze import klines_to_bronze

from support.fake_binance import Fault, make_klines
from support.project import free_port

PARAMS = {
    "source": "binance",
    "symbol": "BTCUSDT",
    "interval": "1d",
    "start_date": "2015-01-01",
    "dump_path": None,
    "invalid_rows": "raise",
    "fetch": {
        "page_limit": 1000,
        "max_tries": 4,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "max_retry_after_seconds": 5,
    },
}


def client_for(server, timeout_seconds: float = 5.0):
    return BinanceClientDataset(api_url=server.api_url, timeout_seconds=timeout_seconds).load()


def fetch(server, bronze_previous=None, timeout_seconds: float = 5.0, **overrides):
    params = {**PARAMS, **overrides}
    previous = pd.DataFrame() if bronze_previous is None else bronze_previous
    return update_bronze(previous, client_for(server, timeout_seconds), params)


def test_full_fetch_pages_through_the_limit_and_drops_the_open_candle(fake_binance):
    fake_binance.klines["1d"] = make_klines(2500, "1d")
    bronze = fetch(fake_binance)
    assert len(bronze) == 2500  # the open 2501st candle is not stored
    assert bronze["close_time"].max() < time.time() * 1000
    assert bronze["open_time"].is_monotonic_increasing and bronze["open_time"].is_unique
    assert list(bronze["close"][:3]) == [float(k[4]) for k in fake_binance.klines["1d"][:3]]
    assert len(fake_binance.kline_requests) == 3
    assert len(fake_binance.time_requests) == 1  # Binance's clock decides what is closed
    assert all(r["limit"] == "1000" for r in fake_binance.kline_requests)


@pytest.mark.parametrize("n_closed", [1000, 3000, 10_000])
def test_never_asks_for_a_page_more_than_needed(fake_binance, n_closed):
    fake_binance.klines["1h"] = make_klines(n_closed, "1h")
    bronze = fetch(fake_binance, interval="1h", start_date="2010-01-01")
    assert len(bronze) == n_closed
    assert len(fake_binance.kline_requests) == n_closed // 1000


def test_incremental_fetch_asks_only_after_the_last_stored_candle(fake_binance):
    fake_binance.klines["1d"] = make_klines(2000, "1d")
    stored = klines_to_bronze(fake_binance.klines["1d"][:1500])
    bronze = fetch(fake_binance, bronze_previous=stored)
    assert len(bronze) == 2000
    next_open = stored["open_time"].max() + 86_400_000
    assert fake_binance.kline_requests[0]["startTime"] == str(next_open)
    assert len(fake_binance.kline_requests) == 1
    pd.testing.assert_frame_equal(bronze.iloc[:1500], stored)


def test_rerun_with_nothing_new_changes_nothing_and_costs_one_time_request(fake_binance):
    fake_binance.klines["1d"] = make_klines(1200, "1d")
    first = fetch(fake_binance)
    assert len(fake_binance.requests) == 1 + 2  # the server time, two kline pages
    fake_binance.requests.clear()
    second = fetch(fake_binance, bronze_previous=first)
    pd.testing.assert_frame_equal(first, second)
    assert [path for path, _ in fake_binance.requests] == ["/api/v3/time"]


def test_closed_means_closed_by_binances_clock_not_the_local_one(fake_binance):
    day = 86_400_000
    now = int(time.time() * 1000)
    fake_binance.klines["1d"] = make_klines(100, "1d", now_ms=now)
    # Binance's clock is 1 h before today's midnight UTC: by the local clock yesterday's
    # candle has closed, by Binance's it is still open.
    fake_binance.clock_offset_ms = -(now % day) - 3_600_000
    yesterday = fake_binance.klines["1d"][-2]
    assert yesterday[6] < now and yesterday[6] >= fake_binance.server_time_ms()
    bronze = fetch(fake_binance)
    assert len(bronze) == 99
    assert yesterday[0] not in set(bronze["open_time"])
    assert bronze["close_time"].max() < fake_binance.server_time_ms()
    fake_binance.requests.clear()
    assert len(fetch(fake_binance, bronze_previous=bronze)) == 99
    assert fake_binance.kline_requests == []  # nothing can have closed since, by Binance


def test_server_time_below_local_clock_keeps_the_page_count_at_the_floor(fake_binance):
    fake_binance.klines["1h"] = make_klines(3000, "1h")
    fake_binance.clock_offset_ms = -30 * 60_000
    bronze = fetch(fake_binance, interval="1h", start_date="2010-01-01")
    assert len(bronze) in (2999, 3000)  # the last may still be open by Binance's clock
    assert len(fake_binance.kline_requests) == 3


def test_retries_rate_limits_server_errors_and_timeouts_then_succeeds(fake_binance):
    fake_binance.klines["1d"] = make_klines(300, "1d")
    fake_binance.faults.extend(
        [
            Fault("status", 429, {"Retry-After": "0"}),
            Fault("status", 503),
            Fault("timeout", delay=8.0),
        ]
    )
    bronze = fetch(fake_binance, timeout_seconds=2.0)  # well above a loaded host's answer
    assert len(bronze) == 300
    assert len(fake_binance.kline_requests) == 4


def test_418_ban_with_long_retry_after_fails_at_once(fake_binance):
    fake_binance.klines["1d"] = make_klines(300, "1d")
    fake_binance.faults.append(Fault("status", 418, {"Retry-After": "3600"}))
    with pytest.raises(BinanceFetchError, match="Retry-After"):
        fetch(fake_binance)
    assert len(fake_binance.kline_requests) == 1


def test_gives_up_after_max_tries_with_a_clear_message(fake_binance):
    fake_binance.klines["1d"] = make_klines(300, "1d")
    fake_binance.faults.extend([Fault("status", 500)] * 10)
    with pytest.raises(BinanceFetchError, match=r"after 4 tries \(last: HTTP 500\)"):
        fetch(fake_binance)
    assert len(fake_binance.kline_requests) == 4


# --- Binance unreachable: fail fast, name --env offline ---------------------------------


class ClosedPort:
    """Where nothing listens: connections to it are refused at once."""

    api_url = f"http://127.0.0.1:{free_port()}/api"


def test_unreachable_binance_fails_at_once_and_names_env_offline():
    params = {"fetch": {**PARAMS["fetch"], "max_tries": 5, "backoff_seconds": 30.0}}
    start = time.perf_counter()
    with pytest.raises(BinanceFetchError) as raised:
        fetch(ClosedPort(), **params)
    assert time.perf_counter() - start < 10.0  # no backoff: 30 + 60 + ... s with retries
    message = str(raised.value)
    assert message.startswith("Cannot reach Binance for the server time (http://127.0.0.1:")
    assert "/api/v3/time): Failed to establish a new connection: [Errno 111] Connection " in message
    assert "kedro run --pipelines training --env offline" in message


def _connection_refused() -> requests.ConnectionError:
    try:
        requests.get(ClosedPort.api_url + "/v3/time", timeout=2)
    except requests.ConnectionError as error:
        return error
    raise AssertionError("something listens on the closed port")


def test_connection_errors_after_the_first_request_are_retried_then_name_env_offline():
    refused = _connection_refused()
    calls = []

    def request():
        calls.append(1)
        raise refused

    policy = RetryPolicy(
        max_tries=3, backoff_seconds=0.0, max_backoff_seconds=0.0, max_retry_after_seconds=1
    )
    with pytest.raises(
        BinanceFetchError, match=r"after 3 tries \(last: ConnectionError\).*--env offline"
    ):
        call_with_retries(request, policy, "klines", sleep=lambda _: None)
    assert len(calls) == 3
    with pytest.raises(BinanceFetchError, match="Cannot reach Binance for klines"):
        call_with_retries(request, policy, "klines", unreachable_fails_at_once=True)
    assert len(calls) == 4


def test_a_connect_timeout_on_the_first_request_fails_at_once():
    reason = ConnectTimeoutError(
        HTTPSConnection("api.binance.com", 443),
        "Connection to api.binance.com timed out. (connect timeout=10)",
    )
    timeout = requests.ConnectTimeout(MaxRetryError(None, "/api/v3/time", reason))

    def request():
        raise timeout

    policy = RetryPolicy(
        max_tries=5, backoff_seconds=60.0, max_backoff_seconds=60.0, max_retry_after_seconds=1
    )
    with pytest.raises(
        BinanceFetchError,
        match=r"^Cannot reach Binance for the server time: Connection to api.binance.com "
        r"timed out\. \(connect timeout=10\)\. Nothing was fetched",
    ):
        call_with_retries(request, policy, "the server time", unreachable_fails_at_once=True)


def test_a_read_timeout_on_the_first_request_is_still_retried():
    policy = RetryPolicy(
        max_tries=2, backoff_seconds=0.0, max_backoff_seconds=0.0, max_retry_after_seconds=1
    )
    answers = iter([requests.ReadTimeout("slow"), {"serverTime": 1}])

    def request():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(
        request, policy, "the server time", sleep=lambda _: None, unreachable_fails_at_once=True
    ) == {"serverTime": 1}


def test_a_restricted_location_answer_names_env_offline(fake_binance):
    fake_binance.klines["1d"] = make_klines(10, "1d")
    fake_binance.faults.append(Fault("status", 451))
    with pytest.raises(BinanceFetchError, match=r"HTTP 451.*--env offline"):
        fetch(fake_binance)
    assert len(fake_binance.kline_requests) == 1  # not retried
