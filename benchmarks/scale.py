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
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy, the pair list
from skill import markdown  # noqa: E402

from support.pairs import list_pairs  # noqa: E402
from support.project import BIN, copy_project, cpu_model  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=None, help="only the first N pairs")
    parser.add_argument("--params", default="", help="extra --params for every run")
    args = parser.parse_args()
    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", TF_CPP_MIN_LOG_LEVEL="2")
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
