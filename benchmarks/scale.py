"""Scale benchmark: the 21 real daily USDT pairs (../shared/data: BTCUSDT + pairs_1d/)
trained side by side, on Kedro's SequentialRunner and on cryptopythia.runners.DaskRunner
with a 2-worker LocalCluster (1 thread each), wall time and speed-up.

In throw-away copies of the project: `kedro run --pipeline training --env offline` with
every pair listed in parameters_pairs.yml (default training parameters), first with the
DaskRunner (a failing pair is named and the others finish), then with the SequentialRunner
on the pairs that succeeded. Usage:

    .venv/bin/python benchmarks/scale.py [--pairs N] [--params "modelling.epochs=5"]

Writes benchmarks/results/scale.json (wall times, per-pair cost, failures, CPU) and prints
a markdown table.

Start-up with many pairs: the seconds from `kedro run --pipelines training --env offline`
to its first node (Kedro's "Running node" line; the run is stopped there), with N
generated symbols listed (the daily snapshot as every pair's dump), median of --repeats:

    nice -n 10 .venv/bin/python benchmarks/scale.py --startup 25,50,200,500

Writes the runs as "after" in benchmarks/results/scale_startup.json; with --baseline DIR (an
earlier commit's tree: `git archive <commit> src conf | tar -x -C DIR`), that tree's
src/ and conf/ are run instead and written as "before".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy, the pair list
from skill import markdown  # noqa: E402

from support.pairs import list_pairs  # noqa: E402
from support.project import BIN, DAILY_CANDLES, copy_project, cpu_model  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def real_pair_dumps(folder: Path, limit: int | None) -> list[str]:
    """Links ``folder/<pair>.csv`` to the real daily dumps; returns the symbols."""
    sources = {"btcusdt_1d": SHARED / "btcusdt_1d.csv"}
    sources |= {p.stem: p for p in sorted((SHARED / "pairs_1d").glob("*_1d.csv"))}
    if len(sources) < 2:
        sys.exit(f"The real pair dumps are missing: {SHARED} (see ../shared/data/SOURCES.md).")
    folder.mkdir()
    names = sorted(sources)[:limit] if limit else sorted(sources)
    for name in names:
        (folder / f"{name}.csv").symlink_to(sources[name])
    return [name.removesuffix("_1d").upper() for name in names]


def kedro_run(project: Path, params: str, *extra: str) -> tuple[float, int, str]:
    """`kedro run --pipeline training --env offline`: wall time, exit code, log tail."""
    command = [str(BIN / "kedro"), "run", "--pipelines", "training", "--env", "offline"]
    command += [*(["--params", params] if params else []), *extra]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, env=os.environ)
    return time.perf_counter() - start, done.returncode, (done.stdout + done.stderr)[-20000:]


def failed_pairs(log: str) -> dict[str, str]:
    """The pairs the DaskRunner named as failed, with their error."""
    failures = {}
    for match in re.finditer(r"^\s+- \S+ \(pair (\S+)\): (.+)$", log, flags=re.MULTILINE):
        failures.setdefault(match.group(1), match.group(2)[:300])
    return failures


def startup_project(folder: Path, count: int, baseline: Path | None) -> Path:
    """A project copy listing ``count`` generated symbols (S0000USDT ...), each with the
    daily snapshot as its dump (a link named for the pair); ``baseline``: with that
    tree's conf (but this copy's MLflow store) and src."""
    dumps = folder / "dumps"
    dumps.mkdir(parents=True)
    symbols = [f"S{i:04d}USDT" for i in range(count)]
    for symbol in symbols:
        (dumps / f"{symbol.lower()}_1d.csv.gz").symlink_to(DAILY_CANDLES)
    project = copy_project(folder, with_source=baseline is None)
    if baseline is not None:
        for path in (baseline / "conf").rglob("*.yml"):
            relative = path.relative_to(baseline)
            if relative.parts[1] != "local" and relative.name != "mlflow.yml":
                (project / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, project / relative)
        (project / "src").mkdir()
        (project / "src" / "cryptopythia").symlink_to(baseline / "src" / "cryptopythia")
    list_pairs(project, "offline", symbols, ["1d"], dump_path=f"{dumps}/{{pair}}.csv.gz")
    return project


def seconds_to_first_node(project: Path, timeout: float) -> float | None:
    """`kedro run --pipelines training --env offline` until Kedro logs its first
    "Running node", then stopped; None when no node started within ``timeout`` s."""
    command = [str(BIN / "kedro"), "run", "--pipelines", "training", "--env", "offline"]
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ,
        start_new_session=True,  # its own process group: stopped whole
    )
    seconds, tail = None, []
    # the start-up logs nothing for minutes: stopped from a timer, not between lines
    stop = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGTERM))
    stop.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail = [*tail[-40:], line]
            if "Running node" in line:
                seconds = time.perf_counter() - start
                break
    finally:
        stop.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    if seconds is None and time.perf_counter() - start <= timeout:
        sys.exit(f"The run ended before its first node:\n{''.join(tail)}")
    return seconds


def startup(counts: list[int], repeats: int, timeout: float, baseline: Path | None) -> None:
    """Seconds to the first node per pair count, median of ``repeats``."""
    out = ROOT / "benchmarks" / "results" / "scale_startup.json"
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    label = "before" if baseline else "after"
    results |= {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "command": "kedro run --pipelines training --env offline",
        "note": "a shared machine: other jobs ran beside it (load averages per run below)",
    }
    results[label] = {"repeats": repeats, "timeout_seconds": timeout, "pairs": {}}
    if baseline:
        os.environ["PYTHONPATH"] = str(baseline / "src")  # the run imports that tree's code
    for count in counts:
        runs, loads = [], []
        with tempfile.TemporaryDirectory() as tmp:
            project = startup_project(Path(tmp), count, baseline)
            for _ in range(repeats):
                loads.append(round(os.getloadavg()[0], 1))
                runs.append(seconds_to_first_node(project, timeout))
        finished = [r for r in runs if r is not None]
        median = statistics.median(finished) if len(finished) == len(runs) else None
        results[label]["pairs"][str(count)] = {
            "seconds_median": None if median is None else round(median, 1),
            "seconds": [None if r is None else round(r, 1) for r in runs],
            "load_average_1min": loads,
        }
        print(f"{label}, {count} pairs: {results[label]['pairs'][str(count)]}", flush=True)
        out.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=None, help="only the first N pairs")
    parser.add_argument("--params", default="", help="extra --params for every run")
    parser.add_argument(
        "--startup", default="", help="pair counts, e.g. 25,50,200,500: seconds to 1st node"
    )
    parser.add_argument("--repeats", type=int, default=3, help="--startup runs per count")
    parser.add_argument("--timeout", type=float, default=600, help="--startup: give up after")
    parser.add_argument("--baseline", type=Path, default=None, help="--startup: an older tree")
    args = parser.parse_args()
    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", TF_CPP_MIN_LOG_LEVEL="2")
    if args.startup:
        counts = [int(c) for c in args.startup.split(",")]
        startup(counts, args.repeats, args.timeout, args.baseline)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        symbols = real_pair_dumps(folder / "dumps", args.pairs)
        pattern = f"{folder / 'dumps'}/{{pair}}.csv"

        (folder / "dask").mkdir()
        project = copy_project(folder / "dask", with_source=True)
        list_pairs(project, "offline", symbols, ["1d"], dump_path=pattern)
        dask_seconds, dask_code, dask_log = kedro_run(
            project, args.params, "--runner", "cryptopythia.runners.DaskRunner"
        )
        failures = failed_pairs(dask_log)
        if dask_code != 0 and not failures:
            sys.exit(f"The Dask run failed without naming a pair:\n{dask_log[-4000:]}")
        finished = [s for s in symbols if f"{s.lower()}_1d" not in failures]

        (folder / "sequential").mkdir()
        project = copy_project(folder / "sequential", with_source=True)
        list_pairs(project, "offline", finished, ["1d"], dump_path=pattern)
        sequential_seconds, code, log = kedro_run(project, args.params)
        if code != 0:
            sys.exit(f"The sequential run failed:\n{log[-4000:]}")
        skill = pd.read_csv(project / "data" / "08_reporting" / "pairs_training_summary.csv")

    # The Dask run also trained the failing pairs up to their failure: its time covers them.
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "precision": "float32",
        "pairs": len(symbols),
        "finished_pairs": len(finished),
        "failures": failures,
        "params": args.params or "defaults",
        "sequential_seconds": round(sequential_seconds, 1),
        "dask_seconds": round(dask_seconds, 1),
        "dask_workers": 2,
        "speed_up": round(sequential_seconds / dask_seconds, 2),
        "sequential_seconds_per_pair": round(sequential_seconds / len(finished), 1),
        "skill": skill.to_dict(orient="records"),
    }
    out = ROOT / "benchmarks" / "results" / "scale.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(
        f"{len(symbols)} daily pairs, {len(finished)} trained; {results['cpu']}, "
        f"{results['cores']} cores, float32.\n\n"
        "| runner | pairs | wall time (s) | per pair (s) | speed-up |\n|---|---|---|---|---|\n"
        f"| SequentialRunner | {len(finished)} | {sequential_seconds:.0f} | "
        f"{sequential_seconds / len(finished):.1f} | 1.00 |\n"
        f"| DaskRunner, LocalCluster 2 workers x 1 thread | {len(symbols)} | {dask_seconds:.0f} | "
        f"{dask_seconds / len(symbols):.1f} | {sequential_seconds / dask_seconds:.2f} |\n"
    )
    for pair, error in failures.items():
        print(f"- {pair} failed: {error}")
    columns = ["pair", "first_target", "last_target", "rmse_ratio_to_naive", "mae_ratio_to_naive"]
    print("\n" + markdown(skill[columns]))


if __name__ == "__main__":
    main()
