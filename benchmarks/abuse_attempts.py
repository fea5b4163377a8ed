"""The attempts of benchmarks/abuse.py: one input tried and what came of it (a clear error,
an unclear failure, acceptance; its wall time, an HTTP status, the stored layers), and the
helpers that keep an attempt bounded or its data folder unwritable.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kedro.io.core import DatasetError


def release_pipes(path: Path) -> None:
    """Let a read blocked on a named pipe at (or in) ``path`` return: open its other end."""
    for pipe in [path, *path.glob("*")] if path.is_dir() else [path]:
        if pipe.is_fifo():
            with contextlib.suppress(OSError):
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """A tmpfs with ``options`` (ro, size=...) mounted over ``folder`` (root only)."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def post(url: str, body: dict) -> tuple[int, float]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, time.perf_counter() - start
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - start


def layers(project: Path) -> bytes:
    return b"".join(
        (project / p).read_bytes() if (project / p).exists() else b""
        for p in ("data/01_raw/bronze.csv", "data/02_intermediate/silver.csv")
    )


def attempt(action: Callable[[], None]) -> tuple[str, str]:
    try:
        action()
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        return "clear error", str(error).splitlines()[0][:160]
    except DatasetError as error:  # the project's own (Kedro's wrapper of a raw one: not)
        if not str(error).startswith("Failed while"):
            return "clear error", str(error).splitlines()[0][:160]
        return "unclear failure", f"{type(error).__name__}: {error}"[:160]
    except Exception as error:
        return "unclear failure", f"{type(error).__name__}: {error}"[:160]
    return "accepted", ""


def timed_attempt(action: Callable[[], None], max_seconds: float, path: Path | None = None):
    """``attempt`` with its wall time; a read blocked on a named pipe at ``path`` is let go
    after ``max_seconds`` (and is then unbounded)."""
    watchdog = threading.Timer(max_seconds, release_pipes, [path]) if path else None
    if watchdog:
        watchdog.start()
    start = time.perf_counter()
    try:
        outcome, message = attempt(action)
    finally:
        if watchdog:
            watchdog.cancel()
    return outcome, message, time.perf_counter() - start
