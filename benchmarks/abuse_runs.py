"""The runs of benchmarks/abuse.py, one function per kind of input: each tries the chosen
inputs of its kind against the throw-away project and appends a result row per input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from abuse_attempts import attempt, layers, post, timed_attempt, tmpfs
from abuse_inputs import DUMP_PATHS, DUMPS, PARAMS, STORAGE, STORE_DAMAGE, kline_lines, payloads

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.serving.payload import payload_from_candles

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support
from support.fake_binance import make_klines
from support.project import (
    DAILY_CANDLES,
    ServedModel,
    copy_project,
    run_kedro,
    train_on_candles,
)

Chosen = Callable[[str, str], bool]  # (kind, input name): whether to try that input


def stored_project(folder: Path) -> tuple[Path, list[list]]:
    """A project copy in ``folder`` (made the working directory) with 300 good candles
    stored, and the 400 generated klines the dumps spoil."""
    project = copy_project(folder)
    os.chdir(project)
    klines = make_klines(400, "1d", with_open_candle=False)
    good = folder / "good.csv"
    good.write_text(kline_lines(klines[:300]))
    run_kedro(
        project,
        "data_engineering",
        env="offline",
        params={"data_engineering.dump_path": str(good)},
    )
    return project, klines


def run_dumps(
    project: Path, folder: Path, klines: list[list], rows: list[dict], chosen: Chosen
) -> None:
    """Spoiled dump files as data_engineering.dump_path: refused, and nothing stored?"""
    for name, spoil in DUMPS.items():
        if not chosen("dump", name):
            continue
        dump = folder / f"bad{len(rows)}.csv"
        dump.write_bytes(spoil if isinstance(spoil, bytes) else spoil(klines).encode())
        before = layers(project)
        outcome, message = attempt(
            lambda d=dump: run_kedro(
                project,
                "data_engineering",
                env="offline",
                params={"data_engineering.dump_path": str(d)},
            )
        )
        stored = layers(project) != before and outcome == "accepted"
        rows.append(
            {
                "kind": "dump",
                "input": name,
                "outcome": outcome,
                "stored_bad_data": stored,
                "message": message,
            }
        )


def run_dump_paths(
    project: Path,
    folder: Path,
    klines: list[list],
    rows: list[dict],
    chosen: Chosen,
    max_seconds: float,
) -> None:
    """Special files and bombs as data_engineering.dump_path: refused within max_seconds?"""
    for name, (make, params) in DUMP_PATHS.items():
        if not chosen("dump-path", name):
            continue
        dump = make(folder / f"path{len(rows)}", klines)
        before = layers(project)
        outcome, message, seconds = timed_attempt(
            lambda d=dump, p=params: run_kedro(
                project,
                "data_engineering",
                env="offline",
                params={"data_engineering.dump_path": str(d), **p},
            ),
            max_seconds,
            dump if dump.is_dir() or dump.is_fifo() else None,
        )
        rows.append(
            {
                "kind": "dump-path",
                "input": name,
                "outcome": outcome,
                "seconds": round(seconds, 3),
                "stored_bad_data": layers(project) != before and outcome == "accepted",
                "unbounded": seconds > max_seconds,
                "message": message,
            }
        )


def run_storage(
    project: Path,
    folder: Path,
    klines: list[list],
    rows: list[dict],
    chosen: Chosen,
    max_seconds: float,
) -> None:
    """A run writing new candles to a read-only or full layer folder (root only: tmpfs)."""
    newer = folder / "newer.csv"  # 100 candles more than stored: the run writes
    newer.write_text(kline_lines(klines[:400]))
    for name, (layer, read_only) in STORAGE.items():
        if not chosen("storage", name):
            continue
        if os.geteuid() != 0:
            print(f"skipped {name}: mounting a tmpfs needs root", file=sys.stderr)
            continue
        kept = {p.name: p.read_bytes() for p in (project / layer).iterdir() if p.is_file()}
        size = (sum(map(len, kept.values())) * 3 // 2 // 4096 + 1) * 4096  # pages
        with tmpfs(project / layer, f"size={size}"):
            for file_name, data in kept.items():  # the stored layer, on the tmpfs
                (project / layer / file_name).write_bytes(data)
            if read_only:
                subprocess.run(["mount", "-o", "remount,ro", str(project / layer)], check=True)
            before = layers(project)
            outcome, message, seconds = timed_attempt(
                lambda: run_kedro(
                    project,
                    "data_engineering",
                    env="offline",
                    params={"data_engineering.dump_path": str(newer)},
                ),
                max_seconds,
            )
            changed = layers(project) != before
        rows.append(
            {
                "kind": "storage",
                "input": name,
                "outcome": outcome,
                "seconds": round(seconds, 3),
                "stored_bad_data": changed and outcome == "accepted",
                "unbounded": seconds > max_seconds,
                "message": message,
            }
        )


def run_parameters(
    project: Path, folder: Path, rows: list[dict], chosen: Chosen, kinds: set[str]
) -> None:
    """Bad parameters per pipeline; first a model trained on real candles when an inference
    side run or the http kind needs one."""
    chosen_params = [(p, q) for p, q in PARAMS if chosen("parameter", f"{p} {q}")]
    if "http" in kinds or any(p != "training" for p, _ in chosen_params):
        for stale in ("data/01_raw/bronze.csv", "data/01_raw/bronze.csv.meta.json"):
            (project / stale).unlink()  # the generated candles: train on real ones
        train_on_candles(
            project,
            folder,
            DAILY_CANDLES,
            900,
            **{"modelling.epochs": 1, "modelling.verbose": 0},
        )
    elif chosen_params:  # the training runs read the shipped snapshot (conf/offline)
        for stale in ("data/01_raw/bronze.csv", "data/01_raw/bronze.csv.meta.json"):
            (project / stale).unlink()
    for pipeline_name, params in chosen_params:
        outcome, message = attempt(
            lambda p=pipeline_name, q=params: run_kedro(project, p, env="offline", params=q)
        )
        rows.append(
            {
                "kind": "parameter",
                "input": f"{pipeline_name} {params}",
                "outcome": outcome,
                "stored_bad_data": False,
                "message": message,
            }
        )


def run_store(folder: Path, rows: list[dict], chosen: Chosen) -> None:
    """Inference on a damaged sqlite store (issue 22, item 9), in a fresh copy of the
    project: this process's MLflow keeps the trained project's store open."""
    for how, damage in STORE_DAMAGE.items():
        if not chosen("store", f"mlflow.db {how}"):
            continue
        (folder / f"store{len(rows)}").mkdir()
        other = copy_project(folder / f"store{len(rows)}")
        damage(other / "mlflow.db")
        outcome, message = attempt(lambda o=other: run_kedro(o, "inference", env="offline"))
        rows.append(
            {
                "kind": "store",
                "input": f"mlflow.db {how}",
                "outcome": outcome,
                "stored_bad_data": False,
                "message": message,
            }
        )


def run_http(project: Path, rows: list[dict], chosen: Chosen, max_seconds: float) -> None:
    """Bad request bodies to the served staging model: a 4xx naming the problem?"""
    silver = CandleCSVDataset(
        filepath=str(project / "data/02_intermediate/silver.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()
    good_payload = payload_from_candles(silver.tail(600)).reset_index(drop=True)
    with ServedModel(project, "models:/btc_candle_forecaster@staging") as url:
        for name, body in payloads(good_payload).items():
            if not chosen("http", name):
                continue
            status, seconds = post(f"{url}/invocations", body)
            outcome = (
                "clear error"
                if 400 <= status < 500
                else "unclear failure"
                if status >= 500
                else "accepted"
            )
            rows.append(
                {
                    "kind": "http",
                    "input": name,
                    "outcome": outcome,
                    "status": status,
                    "seconds": round(seconds, 3),
                    "stored_bad_data": False,
                    "unbounded": seconds > max_seconds,
                }
            )
