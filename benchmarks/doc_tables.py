"""Write the docs' benchmark tables from benchmarks/results/*.json, or check them.

Every table in docs/ that reports a benchmark sits between two marker comments:

    <!-- table: serve -->

    | ... the table, generated ... |

    <!-- /table -->

and is rendered here from the JSON the benchmark wrote, so a number is never copied by
hand. After a benchmark run:

    .venv/bin/python benchmarks/doc_tables.py          # rewrite every table in docs/
    .venv/bin/python benchmarks/doc_tables.py --check  # exit 1 when one differs (tests/test_docs.py)

Standard library only: it runs in a second, with nothing imported from the project.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doc_tables_render as render
import doc_tables_skill as skill

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("doc_tables")

TABLES: dict[str, render.Renderer] = {
    "features": render.features,
    "features_ratio": render.features_ratio,
    "train_pipeline": render.train_pipeline,
    "train_setup": render.train_setup,
    "train": render.train,
    "serve": render.serve,
    "serve_inference": render.serve_inference,
    "serve_concurrency": render.serve_concurrency,
    "abuse": render.abuse,
    "ingest": render.ingest,
    "dump_memory": render.dump_memory,
    "scale": render.scale,
    "scale_pairs": render.scale_pairs,
    "scale_startup": render.scale_startup,
    "monitor_alarms": render.monitor_alarms,
    "monitor_replay": render.monitor_replay,
    "skill_runs": skill.skill_runs,
    "skill_steps_1d": skill.skill_steps_1d,
    "skill_steps_4h": skill.skill_steps_4h,
    "skill_overall": skill.skill_overall,
    "intervals": skill.intervals,
    "interval_periods": skill.interval_periods,
    "risk": skill.risk,
    "risk_network": skill.risk_network,
}

MARKED = re.compile(r"(<!-- table: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def fill(text: str, results: Path, page: str) -> tuple[str, list[str]]:
    """The page with every marked table re-rendered, and the names of those that changed."""
    changed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"{page}: unknown table {name!r}; known: {', '.join(TABLES)}")
        body = "\n" + TABLES[name](results) + "\n\n"  # blank lines: Markdown sees a table
        if body != match["body"]:
            changed.append(name)
        return match[1] + body + match[4]

    return MARKED.sub(replace, text), changed


def pages(docs: Path) -> list[Path]:
    """The markdown pages of the docs folder, in a stable order."""
    return sorted(docs.rglob("*.md"))


def run(docs: Path, results: Path, check: bool) -> int:
    """Rewrite (or, with check, only compare) every marked table; 1 when one differs."""
    stale: list[str] = []
    used: set[str] = set()
    for page in pages(docs):
        text = page.read_text()
        used.update(m["name"] for m in MARKED.finditer(text))
        new, changed = fill(text, results, str(page))
        stale += [f"{page.relative_to(docs.parent)}: {name}" for name in changed]
        if changed and not check:
            page.write_text(new)
    unused = sorted(set(TABLES) - used)
    if unused:
        log.warning("tables no page shows: %s", ", ".join(unused))
    if check and stale:
        log.error("tables that differ from their JSON (run benchmarks/doc_tables.py):")
        for entry in stale:
            log.error("  %s", entry)
        return 1
    log.info("%d tables %s", len(stale), "differ" if check else "rewritten")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: --check, and the folders (the tests point them at copies)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    return run(args.docs, args.results, args.check)


if __name__ == "__main__":
    sys.exit(main())
