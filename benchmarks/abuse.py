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
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the CPU's name
import abuse_runs as runs  # noqa: E402

from support.project import cpu_model  # noqa: E402

KINDS = ("dump", "dump-path", "storage", "parameter", "store", "http")


def main() -> None:
    """The command line: the chosen inputs of each kind tried in turn, then counted."""
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
        project, klines = runs.stored_project(Path(folder))
        runs.run_dumps(project, Path(folder), klines, rows, chosen)
        runs.run_dump_paths(project, Path(folder), klines, rows, chosen, args.max_seconds)
        runs.run_storage(project, Path(folder), klines, rows, chosen, args.max_seconds)
        runs.run_parameters(project, Path(folder), rows, chosen, kinds)
        runs.run_store(Path(folder), rows, chosen)
        if "http" not in kinds:
            return finish(rows, args)
        runs.run_http(project, rows, chosen, args.max_seconds)
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
