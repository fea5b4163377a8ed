"""Abuse benchmark: replays a corpus of bad inputs — kline dumps, parameters, HTTP payloads
to the served model — against a throw-away copy of the project and counts what happened.

Per input: a clear error (a ValueError/RuntimeError, a DatasetError the project wrote
itself, or an HTTP 4xx naming the problem), an unclear failure (any other exception, an
HTTP 5xx), stored bad data (bronze or silver changed by a refused run), unbounded work (an
answer slower than --max-seconds). Kinds: dump (file contents), dump-path (special files
and bombs as data_engineering.dump_path), storage (a read-only or full data folder; tmpfs
mounts, root only), parameter, store (a damaged sqlite mlflow.db), http. Usage:

    .venv/bin/python benchmarks/abuse.py [--max-seconds 10] [--only KIND,...] [--match TEXT]

``--only``/``--match`` run the inputs of those kinds / whose name holds TEXT (repeatable),
and write benchmarks/results/abuse_selected.json; a full run writes
benchmarks/results/abuse.json. Prints the counts as a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from kedro.io.core import DatasetError

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.serving.payload import payload_from_candles

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy and the runners
from support.fake_binance import make_klines  # noqa: E402
from support.project import (  # noqa: E402
    DAILY_CANDLES,
    ServedModel,
    copy_project,
    cpu_model,
    run_kedro,
    train_on_candles,
)

HEADER = "open_time,open,high,low,close,volume,close_time\n"
PRICES = ["open", "high", "low", "close"]


def kline_lines(klines: list[list]) -> str:
    return HEADER + "".join(",".join(map(str, k[:7])) + "\n" for k in klines)


def spoiled(row: int, column: int, value: object) -> Callable[[list[list]], str]:
    def spoil(klines: list[list]) -> str:
        klines = [list(k) for k in klines]
        klines[row][column] = value
        return kline_lines(klines)

    return spoil


DUMPS: dict[str, Callable[[list[list]], str] | bytes] = {
    "high=inf": spoiled(350, 2, "inf"),
    "volume=-1": spoiled(350, 5, "-1"),
    "low<0": spoiled(350, 3, "-1.0"),
    "high<close": spoiled(350, 2, "1.0"),
    "off-grid candle (12:00)": lambda k: kline_lines(
        [*k[:350], [k[350][0] + 43_200_000, *k[350][1:]], *k[351:]]
    ),
    "open_time=1e20": spoiled(350, 0, "1e20"),
    "open_time=0": spoiled(350, 0, "0"),
    "non-numeric close": spoiled(350, 4, "abc"),
    "empty file": b"",
    "binary file": bytes(range(256)) * 4,
    "blank first cell": b",1,2,0.5,1.5,10,86399999\n",
    "header only": HEADER.encode(),
    "3 columns": b"1,2,3\n",
    # issue 22's classes
    "candle from 2090": lambda k: kline_lines([*k, [3786912000000, *k[-1][1:6], 3786998399999]]),
    "close_time not open_time + 1d": spoiled(350, 6, "123"),
    "conflicting duplicate candle": lambda k: kline_lines(
        [*k[:351], [k[350][0], k[350][1], k[350][2], k[350][3], k[350][2], *k[350][5:7]], *k[351:]]
    ),
    "unknown header name": lambda k: kline_lines(k).replace("volume", "vol", 1),
}


def gzip_of(path: Path, block: bytes, total: int) -> Path:
    """A gzip of ``block`` repeated to ``total`` bytes: a bomb (tiny file, huge inside)."""
    with gzip.open(path, "wb") as packed:
        for _ in range(total // len(block)):
            packed.write(block)
    return path


def in_folder(folder: Path, klines: list[list], hostile: Callable[[Path], None]) -> Path:
    """A dump folder: good klines and ``hostile(folder)``."""
    folder.mkdir()
    (folder / "btcusdt_1d.csv").write_text(kline_lines(klines))
    hostile(folder)
    return folder


def loop(folder: Path) -> None:
    (folder / "a.csv").symlink_to(folder / "b.csv")
    (folder / "b.csv").symlink_to(folder / "a.csv")


# Dump paths that are no plain kline file (issue 22): each builds the path in a folder.
# The runs may override parameters (a small dump_max_bytes).
DUMP_PATHS: dict[str, tuple[Callable[[Path, list[list]], Path], dict]] = {
    "symlink loop in the dump folder": (lambda f, k: in_folder(f, k, loop), {}),
    "symlink loop as dump_path": (lambda f, k: in_folder(f, k, loop) / "a.csv", {}),
    "folder named *.csv in the dump folder": (
        lambda f, k: in_folder(f, k, lambda d: (d / "old.csv").mkdir()),
        {},
    ),
    "named pipe in the dump folder": (
        lambda f, k: in_folder(f, k, lambda d: os.mkfifo(d / "btcusdt_1d_more.csv")),
        {},
    ),
    "named pipe as dump_path": (
        lambda f, k: in_folder(f, k, lambda d: os.mkfifo(d / "pipe.csv")) / "pipe.csv",
        {},
    ),
    "/dev/zero as dump_path": (lambda f, k: Path("/dev/zero"), {}),
    "gzip bomb: 1 GB of zero bytes": (
        lambda f, k: gzip_of(f.with_suffix(".csv.gz"), b"\0" * 1_048_576, 1 << 30),
        {},
    ),
    "gzip bomb: one row x 200 MB, dump_max_bytes=10 MB": (
        lambda f, k: gzip_of(
            f.with_suffix(".csv.gz"),
            kline_lines(k[:1]).split("\n", 1)[1].encode() * 10_000,
            200_000_000,
        ),
        {"data_engineering.dump_max_bytes": 10_000_000},
    ),
}


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


# A data folder that cannot be written (issue 22): a tmpfs mounted over the run's layer
# folder, holding its stored files: read-only, or with room for half a new copy only.
STORAGE: dict[str, tuple[str, bool]] = {
    "read-only data/01_raw (bronze, its lock)": ("data/01_raw", True),
    "full disk at data/02_intermediate (silver)": ("data/02_intermediate", False),
}

PARAMS: list[tuple[str, dict]] = [
    ("training", {"modelling.batch_size": 0}),
    ("training", {"modelling.epochs": 0}),
    ("training", {"modelling.learning_rate": -1}),
    ("training", {"modelling.split.test": "notadate"}),
    ("training", {"modelling.target": "price"}),
    ("training", {"modelling.n_timesteps": 1}),
    ("training", {"data_engineering.interval": "2d"}),
    ("training", {"data_engineering.symbol": "btc/usdt"}),
    ("training", {"data_engineering.start_date": "yesterday-ish"}),
    ("training", {"data_engineering.api_key": "sk-live-secret"}),
    ("inference", {"inference.target_date": "NaT"}),
    ("inference", {"inference.target_date": "31/31/2031"}),
    ("inference", {"inference.model_alias": "production"}),
    ("backtest", {"backtest.window": "rolling"}),
    ("backtest", {"backtest.n_origins": 0}),
    # issue 22 and 23's classes
    ("training", {"data_engineering.lock_timeout_seconds": "abc"}),
    ("training", {"data_engineering.passphrase": "hunter2-secret"}),
    ("replay", {"replay.start": "notadate", "replay.end": "2020-01-01"}),
    ("replay", {"replay.start": "1999-01-01", "replay.end": "1999-02-01"}),
    ("monitor", {"monitor.status.window": 1}),
    ("monitor", {}),  # nothing in the ledger yet
    # issue 22's, part two
    ("training", {"data_engineering.dump_max_bytes": "abc"}),
    ("training", {"modelling.n_timesteps": 100000}),
]


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


STORE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "of random bytes": lambda path: path.write_bytes(os.urandom(40_000)),
    "cut in half": _truncate,
}


def payloads(good: pd.DataFrame) -> dict[str, dict]:
    """Bad request bodies for the served model, from a good payload."""
    last = len(good) - 1

    def body(frame: pd.DataFrame, **params: object) -> dict:
        return {"dataframe_split": frame.to_dict(orient="split", index=False), "params": params}

    with_row = lambda **v: pd.concat([good.head(1).assign(**v), good])  # noqa: E731
    changed = lambda row, **v: good.assign(  # noqa: E731
        **{k: good[k].where(good.index != row, x) for k, x in v.items()}
    )
    return {
        "ancient candle (-9e15 ms)": body(with_row(open_time=-8999999942400000)),
        "1970 candle": body(with_row(open_time=0)),
        "1e20 open_time": body(with_row(open_time=1e20)),
        "long gap": body(good.drop(index=range(100, 200))),
        "steps=0": body(good, steps=0),
        "steps=-3": body(good, steps=-3),
        "steps=366": body(good, steps=366),
        "steps=1.5": body(good, steps=1.5),
        "target_date in the past": body(good, target_date="2001-01-01"),
        "target_date=garbage": body(good, target_date="someday"),
        "high<close": body(changed(last, high=1.0)),
        "negative volume": body(changed(last, volume=-5.0)),
        "infinite price": body(changed(last, close=float("inf"))),
        "off-grid open_time": body(changed(last, open_time=good["open_time"].iloc[-1] + 3600_000)),
        "too few candles": body(good.tail(20)),
        "missing column": body(good.drop(columns=["close"])),
        "text in prices": body(good.astype({"open": object}).assign(open="abc")),
        "empty": {"dataframe_split": {"columns": [], "data": []}},
        "not a table": {"inputs": "hello"},
        # issue 22, item 10
        "target_date in 2999": body(good, target_date="2999-01-01"),
        "steps and target_date": body(good, steps=3, target_date="2100-01-01"),
        "unknown param": body(good, stepz=3),
        "rows repeated 3 times": body(pd.concat([good.tail(300)] * 3)),
        "duplicated column": body(pd.concat([good, good[["volume"]]], axis=1)),
        "fractional open_time": body(changed(last, open_time=good["open_time"].iloc[-1] + 0.5)),
        "flat candles": body(good.assign(open=100.0, high=100.0, low=100.0, close=100.0)),
        "no rows": {"dataframe_split": {"columns": list(good.columns), "data": []}},
        "prices of 1e300": body(good.assign(**{c: good[c] * 1e300 for c in PRICES})),
        "40x the rows (24,000)": body(pd.concat([good] * 40)),
    }


KINDS = ("dump", "dump-path", "storage", "parameter", "store", "http")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--only", default=",".join(KINDS), help="kinds, comma-separated")
    parser.add_argument("--match", action="append", default=[], help="input names holding")
    args = parser.parse_args()
    kinds = set(args.only.split(","))

    def chosen(kind: str, name: str) -> bool:
        return kind in kinds and (not args.match or any(m in name for m in args.match))

    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", TF_CPP_MIN_LOG_LEVEL="2")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder))
        os.chdir(project)
        klines = make_klines(400, "1d", with_open_candle=False)
        good = Path(folder) / "good.csv"
        good.write_text(kline_lines(klines[:300]))
        run_kedro(
            project,
            "data_engineering",
            env="offline",
            params={"data_engineering.dump_path": str(good)},
        )
        for name, spoil in DUMPS.items():
            if not chosen("dump", name):
                continue
            dump = Path(folder) / f"bad{len(rows)}.csv"
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

        for name, (make, params) in DUMP_PATHS.items():
            if not chosen("dump-path", name):
                continue
            dump = make(Path(folder) / f"path{len(rows)}", klines)
            before = layers(project)
            outcome, message, seconds = timed_attempt(
                lambda d=dump, p=params: run_kedro(
                    project,
                    "data_engineering",
                    env="offline",
                    params={"data_engineering.dump_path": str(d), **p},
                ),
                args.max_seconds,
                dump if dump.is_dir() or dump.is_fifo() else None,
            )
            rows.append(
                {
                    "kind": "dump-path",
                    "input": name,
                    "outcome": outcome,
                    "seconds": round(seconds, 3),
                    "stored_bad_data": layers(project) != before and outcome == "accepted",
                    "unbounded": seconds > args.max_seconds,
                    "message": message,
                }
            )

        newer = Path(folder) / "newer.csv"  # 100 candles more than stored: the run writes
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
                    args.max_seconds,
                )
                changed = layers(project) != before
            rows.append(
                {
                    "kind": "storage",
                    "input": name,
                    "outcome": outcome,
                    "seconds": round(seconds, 3),
                    "stored_bad_data": changed and outcome == "accepted",
                    "unbounded": seconds > args.max_seconds,
                    "message": message,
                }
            )

        chosen_params = [(p, q) for p, q in PARAMS if chosen("parameter", f"{p} {q}")]
        if "http" in kinds or any(p != "training" for p, _ in chosen_params):
            for stale in ("data/01_raw/bronze.csv", "data/01_raw/bronze.csv.meta.json"):
                (project / stale).unlink()  # the generated candles: train on real ones
            train_on_candles(
                project,
                Path(folder),
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

        # issue 22, item 9: a damaged sqlite store, in a fresh copy of the project (this
        # process's MLflow keeps the trained project's store open)
        for how, damage in STORE_DAMAGE.items():
            if not chosen("store", f"mlflow.db {how}"):
                continue
            (Path(folder) / f"store{len(rows)}").mkdir()
            other = copy_project(Path(folder) / f"store{len(rows)}")
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

        if "http" not in kinds:
            return finish(rows, args)
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
                        "unbounded": seconds > args.max_seconds,
                    }
                )
    finish(rows, args)


def finish(rows: list[dict], args: argparse.Namespace) -> None:
    """The counts per kind: benchmarks/results/abuse.json (abuse_selected.json for a
    selection) and a markdown table."""
    table = pd.DataFrame(rows)
    counts = table.groupby("kind").agg(
        tried=("input", "size"),
        clear=("outcome", lambda o: int((o == "clear error").sum())),
        unclear=("outcome", lambda o: int((o == "unclear failure").sum())),
        accepted=("outcome", lambda o: int((o == "accepted").sum())),
        stored_bad_data=("stored_bad_data", "sum"),
    )
    counts["unbounded"] = table.groupby("kind")["unbounded"].sum() if "unbounded" in table else 0
    counts = counts.fillna(0).astype(int).reset_index()
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "max_seconds": args.max_seconds,
        "counts": counts.to_dict(orient="records"),
        "inputs": rows,
    }
    selected = args.match or set(args.only.split(",")) != set(KINDS)
    out = "abuse_selected.json" if selected else "abuse.json"
    (ROOT / "benchmarks/results" / out).write_text(
        json.dumps(results, indent=2, default=str) + "\n"
    )
    print(
        "| inputs | tried | clear error | unclear failure / 5xx | accepted | stored bad data | unbounded |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in counts.to_dict(orient="records"):
        print(
            f"| {r['kind']} | {r['tried']} | {r['clear']} | {r['unclear']} | {r['accepted']} | "
            f"{r['stored_bad_data']} | {r['unbounded']} |"
        )
    for r in rows:
        if r["outcome"] != "clear error":
            print(f"- {r['kind']} {r['input']}: {r['outcome']} {r.get('message', r.get('status'))}")


if __name__ == "__main__":
    main()
