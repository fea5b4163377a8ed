"""Trained projects built once per test session and handed to each test as its own copy.

Training is the slow part of the tests that read a trained project (inference, serving, the
notebook, backtests): each named recipe is trained once, under a lock shared by the
pytest-xdist workers, and every test gets a fresh copy, so no test sees another's writes.
MLflow stores absolute paths (artifact locations, model sources) in ``mlflow.db``: a copy
has them rewritten to its own folder, and its ``mlflow.yml`` points at its own store.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from .project import copy_project


def _relocate_store(project: Path, old: Path) -> None:
    """Rewrite every text value of ``mlflow.db`` that names ``old`` to name ``project``."""
    with sqlite3.connect(project / "mlflow.db") as store:
        tables = [
            row[0] for row in store.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for column in store.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, kind = column[1], (column[2] or "").upper()
                if "CHAR" in kind or "TEXT" in kind:
                    store.execute(
                        f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) '
                        f'WHERE "{name}" LIKE ?',
                        (str(old), str(project), f"%{old}%"),
                    )
    mlflow_yml = project / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(mlflow_yml.read_text().replace(str(old), str(project)))


def trained_copy(
    shared_root: Path, name: str, train: Callable[[Path, Path], object], folder: Path
) -> Path:
    """A copy in ``folder/project`` of the project ``train(project, scratch)`` leaves, built
    once per session under ``shared_root/name`` (the first worker builds, others wait)."""
    template_folder = shared_root / name
    with FileLock(str(shared_root / f"{name}.lock")):
        if not (template_folder / "done").exists():
            shutil.rmtree(template_folder, ignore_errors=True)
            (template_folder / "scratch").mkdir(parents=True)
            template = copy_project(template_folder)
            here = Path.cwd()
            os.chdir(template)  # catalog paths are relative to the working directory
            try:
                train(template, template_folder / "scratch")
            finally:
                os.chdir(here)
            (template_folder / "done").touch()
    template = template_folder / "project"
    project = folder / "project"
    shutil.copytree(template, project, ignore=shutil.ignore_patterns("serve-*.log"))
    _relocate_store(project, template)
    return project
