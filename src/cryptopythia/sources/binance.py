"""Paginated, retrying download of closed klines through python-binance."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests
import urllib3
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException
from tqdm.auto import tqdm

from ..candles import KLINE_COLUMNS, interval_milliseconds

logger = logging.getLogger(__name__)

# 429: rate limit; 418: IP banned after ignoring 429s (both carry Retry-After);
# 5xx: Binance's side. Anything else (400 invalid symbol...) is the caller's error.
RETRYABLE_STATUS_CODES = frozenset({418, 429, 500, 502, 503, 504})
# 451: Binance refuses "restricted locations"; 403: its firewall. Both mean "not from here".
BLOCKED_STATUS_CODES = frozenset({403, 451})
OFFLINE_HINT = (
    "Without access to Binance (offline, or where it is blocked), run on the real candles "
    "shipped with the project: kedro run --pipelines training --env offline (daily; "
    "--env offline_intraday for 4-hour candles), or read another kline dump with --env "
    "offline --params data_engineering.dump_path=<file or folder>."
)


class BinanceFetchError(RuntimeError):
    """Binance could not deliver klines; the stored bronze table was left as it was."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request: ``max_tries`` with exponential backoff."""

    max_tries: int
    backoff_seconds: float
    max_backoff_seconds: float
    max_retry_after_seconds: float

    @classmethod
    def from_params(cls, fetch_params: dict[str, Any]) -> RetryPolicy:
        """The policy in ``data_engineering.fetch``; every key must be set there."""
        policy = cls(
            max_tries=int(fetch_params["max_tries"]),
            backoff_seconds=float(fetch_params["backoff_seconds"]),
            max_backoff_seconds=float(fetch_params["max_backoff_seconds"]),
            max_retry_after_seconds=float(fetch_params["max_retry_after_seconds"]),
        )
        if policy.max_tries < 1 or policy.backoff_seconds < 0:
            raise ValueError(
                "data_engineering.fetch.max_tries must be >= 1 and backoff_seconds >= 0, "
                f"got max_tries={policy.max_tries}, backoff_seconds={policy.backoff_seconds}."
            )
        return policy


def _retry_after_seconds(error: BinanceAPIException) -> float | None:
    header = getattr(error.response, "headers", {}).get("Retry-After")
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _connection_failure(error: requests.RequestException) -> str | None:
    """Why no connection was made at all (refused, unknown host, no route, connect
    timeout), or None for a connection that broke or answered late."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if not isinstance(error, requests.ConnectTimeout) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    ):
        return None
    # urllib3's last argument, "HTTPSConnection(host=..., port=443): Failed to resolve ..."
    # or "Connection to ... timed out. (connect timeout=10)", without the connection.
    message = next((a for a in reversed(getattr(reason, "args", ())) if isinstance(a, str)), None)
    return (message or str(error)).split("): ", 1)[-1][:200]


def call_with_retries(
    request: Callable[[], Any],
    policy: RetryPolicy,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    unreachable_fails_at_once: bool = False,
) -> Any:
    """Run ``request``, retrying rate limits, 5xx, timeouts and connection errors.

    With ``unreachable_fails_at_once`` (the first request of a run), a request that
    cannot connect at all fails at once with the offline advice: a refused connection
    or an unknown host does not come back within seconds of backoff.
    """
    wait = policy.backoff_seconds
    for attempt in range(1, policy.max_tries + 1):
        try:
            return request()
        except BinanceAPIException as error:
            if error.status_code not in RETRYABLE_STATUS_CODES:
                blocked = error.status_code in BLOCKED_STATUS_CODES
                raise BinanceFetchError(
                    f"Binance refused {what}: HTTP {error.status_code}, code {error.code}: "
                    f"{error.message}" + (f". {OFFLINE_HINT}" if blocked else "")
                ) from error
            retry_after = _retry_after_seconds(error)
            if retry_after is not None and retry_after > policy.max_retry_after_seconds:
                raise BinanceFetchError(
                    f"Binance answered HTTP {error.status_code} to {what} and asks to wait "
                    f"{retry_after:.0f} s (Retry-After), more than "
                    "data_engineering.fetch.max_retry_after_seconds="
                    f"{policy.max_retry_after_seconds:.0f}. Try again later."
                ) from error
            problem = f"HTTP {error.status_code}"
            delay = retry_after if retry_after is not None else wait
        except (requests.Timeout, requests.ConnectionError) as error:
            failure = _connection_failure(error) if unreachable_fails_at_once else None
            if failure is not None:
                raise BinanceFetchError(
                    f"Cannot reach Binance for {what}: {failure}. Nothing was fetched; "
                    f"bronze was left untouched. {OFFLINE_HINT}"
                ) from error
            problem = type(error).__name__
            delay = wait
        except BinanceRequestException as error:
            raise BinanceFetchError(
                f"Binance sent a malformed payload for {what}: {error.message[:200]}"
            ) from error
        if attempt == policy.max_tries:
            network = not problem.startswith("HTTP")  # timeouts, connection errors
            raise BinanceFetchError(
                f"Gave up on {what} after {policy.max_tries} tries (last: {problem}). "
                "Bronze was left untouched; run again later or raise "
                "data_engineering.fetch.max_tries." + (f" {OFFLINE_HINT}" if network else "")
            )
        logger.warning(
            "%s for %s (try %d/%d); retrying in %.2f s",
            problem,
            what,
            attempt,
            policy.max_tries,
            delay,
        )
        sleep(delay)
        wait = min(wait * 2, policy.max_backoff_seconds)
    raise AssertionError("unreachable")  # pragma: no cover


def server_time_ms(client: Client, policy: RetryPolicy) -> int:
    """Binance's clock in ms (one request): what "closed" and "now" mean for klines.

    The first request of a run: if it cannot connect at all, the run fails at once and
    names ``--env offline``.
    """
    what = f"the server time ({client.API_URL}/v3/time)"
    answer = call_with_retries(client.get_server_time, policy, what, unreachable_fails_at_once=True)
    server_time = answer.get("serverTime") if isinstance(answer, dict) else None
    if isinstance(server_time, bool) or not isinstance(server_time, int) or server_time <= 0:
        raise BinanceFetchError(
            f"Binance sent a malformed payload for {what}: expected "
            f"{{'serverTime': <ms>}}, got {str(answer)[:200]!r}."
        )
    return server_time


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_page(page: Any, what: str) -> list[list[Any]]:
    if not isinstance(page, list) or not all(
        isinstance(row, list) and len(row) >= 11 for row in page
    ):
        raise BinanceFetchError(
            f"Binance sent a malformed payload for {what}: expected a list of klines "
            f"(lists of 11-12 fields), got {str(page)[:200]!r}."
        )
    for index, row in enumerate(page):
        nulls = [KLINE_COLUMNS[i] for i, value in enumerate(row[:11]) if _is_null(value)]
        if nulls:
            raise BinanceFetchError(
                f"Binance sent a malformed payload for {what}: kline {index} of the page "
                f"(open_time {row[0]}) has a null {', '.join(nulls)}: {str(row)[:200]}. "
                "Nothing was stored; run again later."
            )
    return page


def fetch_closed_klines(
    client: Client,
    symbol: str,
    interval: str,
    start_ms: int,
    now_ms: int,
    page_limit: int,
    policy: RetryPolicy,
) -> list[list[Any]]:
    """All closed klines with open_time >= ``start_ms``, paging ``page_limit`` at a time.

    Stops as soon as the candle after the last one received cannot have closed yet, so
    it never asks for an empty page; the still-open candle is dropped.
    """
    step_ms = interval_milliseconds(interval)
    if step_ms is not None and start_ms + step_ms - 1 >= now_ms:
        logger.info("No %s %s candle can have closed since the last one stored.", symbol, interval)
        return []
    expected = (now_ms - start_ms) // step_ms if step_ms else None
    klines: list[list[Any]] = []
    cursor = start_ms
    with tqdm(total=expected, unit="candle", desc=f"{symbol} {interval}") as progress:
        while True:
            what = f"klines {symbol} {interval} from {cursor}"
            page = _check_page(
                call_with_retries(
                    partial(
                        client.get_klines,
                        symbol=symbol,
                        interval=interval,
                        startTime=cursor,
                        limit=page_limit,
                    ),
                    policy,
                    what,
                ),
                what,
            )
            klines.extend(page)
            progress.update(len(page))
            if len(page) < page_limit:
                break
            last_open, last_close = int(page[-1][0]), int(page[-1][6])
            if step_ms is not None and last_close + step_ms >= now_ms:
                break  # the next candle is still open
            cursor = last_open + 1
    return [kline for kline in klines if int(kline[6]) < now_ms]
