"""A local HTTP server that speaks Binance's public kline API, with injectable faults.

Used by tests and benchmarks so that the real python-binance client does real HTTP
against 127.0.0.1: /api/v3/ping, /api/v3/time and /api/v3/klines (symbol, interval,
startTime, endTime, limit with Binance's semantics: default 500, max 1000).
``clock_offset_ms`` shifts the server's clock (/api/v3/time) from the local one.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

INTERVAL_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


def make_klines(
    n_closed: int,
    interval: str = "1d",
    now_ms: int | None = None,
    with_open_candle: bool = True,
    seed: int = 0,
) -> list[list[Any]]:
    """``n_closed`` closed klines ending just before now (+ the still-open one)."""
    step = INTERVAL_MS[interval]
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    current_open = now_ms - now_ms % step  # the candle that is open now
    first_open = current_open - n_closed * step
    n = n_closed + (1 if with_open_candle else 0)
    rng = np.random.default_rng(seed)
    close = 20_000 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    volume = rng.uniform(100, 1000, n)
    klines = []
    for i in range(n):
        open_time = first_open + i * step
        klines.append(
            [
                open_time,
                f"{open_[i]:.2f}",
                f"{high[i]:.2f}",
                f"{low[i]:.2f}",
                f"{close[i]:.2f}",
                f"{volume[i]:.6f}",
                open_time + step - 1,
                f"{volume[i] * close[i]:.4f}",
                int(volume[i] * 10),
                f"{volume[i] / 2:.6f}",
                f"{volume[i] * close[i] / 2:.4f}",
                "0",
            ]
        )
    return klines


@dataclass
class Fault:
    """What to do to one kline request instead of answering it."""

    kind: str  # "status" | "timeout" | "malformed" | "empty" | "garbage_rows" | "null_field"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    field: int = 0  # null_field: which kline field is sent as null ...
    row: int = 0  # ... in which row of the page


class FakeBinance:
    """The server's state: klines per interval of ``symbol`` (``klines``) and of any other
    listed symbol (``symbols[symbol][interval]``), queued faults, a request log,
    ``clock_offset_ms`` (server time = local time + offset; negative: behind), and
    ``latency_seconds`` per kline request, each recorded in ``kline_spans`` as (symbol,
    monotonic start, monotonic end). With ``first_requests_meet`` (a barrier), the first
    kline request of each symbol waits for the others' before it is answered: fetches that
    can run side by side then do, whatever their start-up took; a broken or timed-out
    barrier lets each go on alone."""

    def __init__(self, symbol: str = "BTCUSDT") -> None:
        self.symbol = symbol
        self.klines: dict[str, list[list[Any]]] = {}
        self.symbols: dict[str, dict[str, list[list[Any]]]] = {}
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.clock_offset_ms = 0
        self.latency_seconds = 0.0
        self.kline_spans: list[tuple[str, float, float]] = []
        self.first_requests_meet: threading.Barrier | None = None
        self._symbols_met: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api"

    @property
    def kline_requests(self) -> list[dict[str, str]]:
        return [params for path, params in self.requests if path.endswith("/klines")]

    @property
    def time_requests(self) -> list[dict[str, str]]:
        return [params for path, params in self.requests if path.endswith("/time")]

    def server_time_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def _meet_the_other_symbols(self, symbol: str) -> None:
        """The first kline request of ``symbol`` waits at ``first_requests_meet``."""
        if self.first_requests_meet is None or symbol in self._symbols_met:
            return
        self._symbols_met.add(symbol)
        with contextlib.suppress(threading.BrokenBarrierError):  # timed out: go on alone
            self.first_requests_meet.wait()

    def start(self) -> FakeBinance:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer_klines(self, params: dict[str, str]) -> tuple[int, Any]:
        symbol = params.get("symbol")
        klines = self.klines if symbol == self.symbol else self.symbols.get(str(symbol))
        if klines is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        interval = params.get("interval")
        if interval not in klines:
            return 400, {"code": -1120, "msg": "Invalid interval."}
        limit = min(int(params.get("limit", 500)), 1000)
        start = int(params.get("startTime", 0))
        end = int(params.get("endTime", 2**62))
        rows = [k for k in klines[interval] if start <= k[0] <= end]
        return 200, rows[:limit]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                fake.requests.append((url.path, params))
                if url.path == "/api/v3/ping":
                    return self._send(200, "{}")
                if url.path == "/api/v3/time":
                    return self._send(200, json.dumps({"serverTime": fake.server_time_ms()}))
                if url.path != "/api/v3/klines":
                    return self._send(404, json.dumps({"code": -1, "msg": "Not found"}))
                fault = fake.faults.popleft() if fake.faults else None
                if fault is None:
                    fake._meet_the_other_symbols(params.get("symbol", ""))
                    started = time.monotonic()
                    time.sleep(fake.latency_seconds)
                    status, body = fake._answer_klines(params)
                    fake.kline_spans.append((params.get("symbol", ""), started, time.monotonic()))
                    return self._send(status, json.dumps(body))
                if fault.kind == "timeout":
                    time.sleep(fault.delay)
                    status, body = fake._answer_klines(params)
                    try:
                        return self._send(status, json.dumps(body))
                    except OSError:  # the client gave up already
                        return None
                if fault.kind == "status":
                    body = {"code": -1003, "msg": f"Injected HTTP {fault.status}."}
                    return self._send(fault.status, json.dumps(body), fault.headers)
                if fault.kind == "malformed":
                    return self._send(200, '[[1502928000000, "4261.48", "44')
                if fault.kind == "garbage_rows":
                    return self._send(200, json.dumps([["x", "y"]]))
                if fault.kind == "empty":
                    return self._send(200, "[]")
                if fault.kind == "null_field":
                    status, body = fake._answer_klines(params)
                    body = [list(row) for row in body]
                    body[fault.row][fault.field] = None
                    return self._send(status, json.dumps(body))
                raise ValueError(fault.kind)

        return Handler


def point_catalog_at(project: Path, server: FakeBinance) -> None:
    """conf/local/catalog.yml of a project copy: its Binance client asks ``server``."""
    (project / "conf" / "local" / "catalog.yml").write_text(
        "binance_client:\n"
        "  type: cryptopythia.datasets.BinanceClientDataset\n"
        f"  api_url: {server.api_url}\n"
        "  timeout_seconds: 2\n"
    )
