"""Dump memory benchmark: peak RSS and time of reading big and hostile kline dumps.

Writes, in a temp folder, SYNTHETIC data (a random walk, not market data):

- ``BTCUSDT-1m-synthetic.csv``: ~200 MB of 1-minute klines in Binance's 12-column dump
  layout (no header, ms timestamps), closed candles from 2017-08-17 on;
- ``bomb-rows.csv.gz``: a gzip of one kline row repeated to ~370 MB (a gzip bomb whose
  content parses);
- ``bomb-zeros.csv.gz``: a gzip of ~1 GB of zero bytes (a gzip bomb with no line at all).

Each case runs in a fresh Python subprocess (``read``: ``read_kline_dump``; ``bronze``:
``dump_bronze``, the dump side of the data_engineering node: read, type, keep the closed
candles since start_date, check close times); its peak RSS is the child's ``ru_maxrss``
(``os.wait4``) and its time the child's own clock around the call (imports excluded).
``import`` is the child's baseline: Python + pandas + the project, no read. Usage:

    nice -n 10 .venv/bin/python benchmarks/dump_memory.py [--repeats 3] [--out NAME]

Medians of ``--repeats`` runs go to benchmarks/results/<NAME>.json (default dump_memory)
with the CPU model; a markdown table is printed. Run with another ``PYTHONPATH`` to
measure another version of ``src`` (e.g. ``git archive`` of an older commit).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: cpu_model
from support.project import cpu_model  # noqa: E402

MINUTE_MS = 60_000
START_MS = 1502928000000  # 2017-08-17 00:00 UTC
CONF = yaml.safe_load((ROOT / "conf/base/parameters_data_engineering.yml").read_text())
DEFAULT_MAX_BYTES = CONF["data_engineering"].get("dump_max_bytes")  # absent before the cap

CHILD = r"""
import inspect, json, sys, time
args = json.loads(sys.argv[1])
from cryptopythia.sources.bronze import BronzeQuery, dump_bronze
from cryptopythia.sources.dump import read_kline_dump
out = {}
if args["phase"] != "import":
    extra = {}
    function = read_kline_dump if args["phase"] == "read" else dump_bronze
    if args["max_bytes"] is not None and "max_bytes" in inspect.signature(function).parameters:
        extra["max_bytes"] = args["max_bytes"]
    start = time.perf_counter()
    try:
        if args["phase"] == "read":
            out["rows"] = len(read_kline_dump(args["path"], "BTCUSDT", "1m", **extra))
        else:
            query = BronzeQuery("dump", "BTCUSDT", "1m", "2017-08-17", 1502928000000, "raise")
            out["rows"] = len(dump_bronze(args["path"], query, False, **extra))
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"[:400]
    out["seconds"] = time.perf_counter() - start
print(json.dumps(out))
"""


def write_synthetic_csv(path: Path, target_bytes: int) -> int:
    """SYNTHETIC 1m klines (12 columns, Binance's dump layout) until ``target_bytes``."""
    rng = np.random.default_rng(22)
    rows, price, written = 0, 4000.0, 0
    with path.open("w") as file:
        while written < target_bytes:
            n = 100_000
            steps = rng.normal(0.0, 0.0008, n)
            close = price * np.exp(np.cumsum(steps))
            open_ = np.concatenate([[price], close[:-1]])
            spread = np.abs(rng.normal(0.0, 0.0005, n)) * close
            high, low = np.maximum(open_, close) + spread, np.minimum(open_, close) - spread
            volume = np.abs(rng.normal(20.0, 8.0, n))
            trades = rng.integers(1, 2000, n)
            opened = START_MS + (rows + np.arange(n)) * MINUTE_MS
            lines = [
                f"{t},{o:.8f},{h:.8f},{lo:.8f},{c:.8f},{v:.8f},{t + MINUTE_MS - 1},"
                f"{v * c:.8f},{k},{v / 2:.8f},{v * c / 2:.8f},0\n"
                for t, o, h, lo, c, v, k in zip(opened, open_, high, low, close, volume, trades)
            ]
            block = "".join(lines)
            file.write(block)
            written += len(block)
            rows, price = rows + n, float(close[-1])
    return rows


def write_bomb(path: Path, line: bytes, target_bytes: int) -> None:
    """A gzip of ``line`` repeated to ``target_bytes`` (the bomb: tiny file, huge inside)."""
    block = line * (1_048_576 // len(line))
    with gzip.open(path, "wb", compresslevel=9) as file:
        for _ in range(target_bytes // len(block)):
            file.write(block)


def run_child(phase: str, path: Path | None, max_bytes: int | None) -> dict:
    """One fresh interpreter doing ``phase``: its own result, peak RSS (MB) and exit code."""
    argument = json.dumps({"phase": phase, "path": str(path), "max_bytes": max_bytes})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, argument],
        stdout=subprocess.PIPE,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    result = json.loads(output) if output.strip() else {"error": f"exit {child.returncode}"}
    return {**result, "peak_rss_mb": usage.ru_maxrss / 1024, "exit": child.returncode}


def measure(phase: str, path: Path | None, max_bytes: int | None, repeats: int) -> dict:
    runs = [run_child(phase, path, max_bytes) for _ in range(repeats)]
    summary = {
        "phase": phase,
        "max_bytes": max_bytes,
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }
    if phase != "import":
        summary["seconds"] = statistics.median(r["seconds"] for r in runs)
        summary["rows"] = runs[-1].get("rows")
        summary["error"] = runs[-1].get("error")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="dump_memory")
    parser.add_argument("--csv-mb", type=float, default=200.0)
    parser.add_argument(
        "--skip", action="append", default=[], help="skip the cases whose name holds this"
    )
    args = parser.parse_args()
    results: dict = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "repeats": args.repeats,
        "src": os.environ.get("PYTHONPATH", ""),
        "default_dump_max_bytes": DEFAULT_MAX_BYTES,
        "data": "SYNTHETIC klines (random walk) and gzip bombs, made by this script",
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "BTCUSDT-1m-synthetic.csv"
        results["csv_rows"] = write_synthetic_csv(csv, int(args.csv_mb * 1_000_000))
        results["csv_bytes"] = csv.stat().st_size
        line = b"1502928000000,4261.48,4261.48,4261.48,4261.48,1.775183,1502928059999\n"
        rows_bomb, zeros_bomb = (
            Path(folder) / "bomb-rows.csv.gz",
            Path(folder) / "bomb-zeros.csv.gz",
        )
        write_bomb(rows_bomb, line, 370_000_000)
        write_bomb(zeros_bomb, b"\0" * 1024, 1_000_000_000)
        for bomb, unpacked in ((rows_bomb, 370_000_000), (zeros_bomb, 1_000_000_000)):
            results[f"{bomb.stem}_gz_bytes"] = bomb.stat().st_size
            results[f"{bomb.stem}_unpacked_bytes"] = unpacked
        cases = {
            "import only (baseline)": ("import", None, None),
            "200 MB CSV, read": ("read", csv, DEFAULT_MAX_BYTES),
            "200 MB CSV, dump_bronze": ("bronze", csv, DEFAULT_MAX_BYTES),
            "gzip bomb, 1 row x 370 MB": ("read", rows_bomb, DEFAULT_MAX_BYTES),
            "gzip bomb, 1 row x 370 MB, cap 100 MB": ("read", rows_bomb, 100_000_000),
            "gzip bomb, 1 GB of zero bytes": ("read", zeros_bomb, DEFAULT_MAX_BYTES),
        }
        for name, (phase, path, max_bytes) in cases.items():
            if any(part in name for part in args.skip):
                continue
            results["cases"][name] = measure(phase, path, max_bytes, args.repeats)
            print(f"done: {name}", file=sys.stderr)
    out = ROOT / "benchmarks" / "results" / f"{args.out}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"CPU: {results['cpu']} ({results['cores']} cores); CSV {results['csv_bytes']:,} B")
    print("| case | peak RSS (MB) | time (s) | rows | outcome |")
    print("|---|---|---|---|---|")
    for name, case in results["cases"].items():
        seconds = f"{case['seconds']:.2f}" if "seconds" in case else ""
        outcome = (case.get("error") or "read")[:120]
        rows = case.get("rows") if case.get("rows") is not None else ""
        print(f"| {name} | {case['peak_rss_mb']:.0f} | {seconds} | {rows} | {outcome} |")


if __name__ == "__main__":
    main()
