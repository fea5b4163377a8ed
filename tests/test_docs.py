"""The README and the docs site: short README, nav pages present, links resolve, and the
benchmark tables equal to what benchmarks/doc_tables.py renders from their JSON.

Fast (no kedro run, no mkdocs build: .ci/run builds the site with --strict).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "benchmarks" / "doc_tables.py"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")


def nav_pages(nav: list) -> list[str]:
    """Every page path named in mkdocs.yml's nav, however deep."""
    pages: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def run_tables(*args: str) -> subprocess.CompletedProcess[str]:
    """benchmarks/doc_tables.py in a subprocess, as a contributor runs it."""
    return subprocess.run(
        [sys.executable, str(TABLES), *args], capture_output=True, text=True, timeout=60
    )


def test_readme_is_at_most_200_lines() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"


def test_every_nav_page_exists_and_every_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    missing = [page for page in pages if not (ROOT / "docs" / page).is_file()]
    assert not missing, f"pages in mkdocs.yml's nav but not in docs/: {missing}"
    unlisted = sorted(
        str(path.relative_to(ROOT / "docs"))
        for path in (ROOT / "docs").rglob("*.md")
        if str(path.relative_to(ROOT / "docs")) not in pages
    )
    assert not unlisted, f"docs/ pages missing from mkdocs.yml's nav: {unlisted}"


def test_readme_relative_links_point_to_files() -> None:
    targets = LINK.findall((ROOT / "README.md").read_text())
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert local, "the README links to no docs page"
    broken = [t for t in local if not (ROOT / t).exists()]
    assert not broken, f"README.md links to missing files: {broken}"


def test_benchmark_tables_match_their_json() -> None:
    result = run_tables("--check")
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_fails_on_a_table_edited_by_hand(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    page = docs / "benchmarks.md"
    text = page.read_text()
    edited = re.sub(
        r"(<!-- table: serve -->\n\n\|[^\n]*\n\|[^\n]*\n\| [^|]+\| )\d+", r"\g<1>7", text
    )
    assert edited != text
    page.write_text(edited)
    result = run_tables("--check", "--docs", str(docs))
    assert result.returncode == 1
    assert "benchmarks.md: serve" in result.stderr
    assert run_tables("--docs", str(docs)).returncode == 0  # rewriting repairs it
    assert page.read_text() == text


def test_an_unknown_table_name_is_refused(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text("<!-- table: nope -->\n<!-- /table -->\n")
    result = run_tables("--check", "--docs", str(docs))
    assert result.returncode != 0
    assert "unknown table 'nope'" in result.stderr


@pytest.mark.parametrize("target", ["docs/images/forecast_fan_chart.png"])
def test_the_readme_picture_is_there_and_not_git_ignored(target: str) -> None:
    assert (ROOT / target).is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", target], cwd=ROOT, check=False)
    # 0: ignored. Outside a git checkout (.ci/run's copy holds only files git keeps) 128.
    assert ignored.returncode != 0, f"{target} is git-ignored: the next commit would miss it"


def test_every_library_module_has_a_home_in_the_api_reference():
    """A new module is listed on its package's reference page (docs/reference/*.md): the
    site would otherwise leave it out silently. Pipelines' wiring and the package roots
    are read elsewhere (kedro viz, the package pages' summaries)."""
    source = ROOT / "src" / "cryptopythia"
    modules = {
        ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
        for path in source.rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py", "pipeline.py", "settings.py"}
    }
    documented = set(
        re.findall(
            r"^::: ([\w.]+)",
            "\n".join(p.read_text() for p in (ROOT / "docs" / "reference").glob("*.md")),
            re.M,
        )
    )
    assert sorted(modules - documented) == []
