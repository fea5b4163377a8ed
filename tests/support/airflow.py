"""Apache Airflow for the DAG tests: its own venv (never the project's: their pins clash),
the repository's .venv-airflow when `make airflow` made it, else one built as `make airflow`
builds it, once per machine and constraints file, in the temp folder."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from filelock import FileLock

from .project import PROJECT_ROOT

AIRFLOW_DIR = PROJECT_ROOT / "deploy" / "airflow"
CONSTRAINTS = AIRFLOW_DIR / "constraints.txt"
MAKEFILE = PROJECT_ROOT / "Makefile"


def makefile_value(name: str) -> str:
    """``NAME = value`` of the Makefile (AIRFLOW_VERSION, KEDRO_AIRFLOW_VERSION)."""
    found = re.search(rf"^{name}\s*\??=\s*(\S+)\s*$", MAKEFILE.read_text(), re.MULTILINE)
    assert found, f"{name} is not set in the Makefile"
    return found.group(1)


def airflow_python() -> Path:
    """The Python of a venv holding Apache Airflow (``python -m airflow``)."""
    made = PROJECT_ROOT / ".venv-airflow"
    if (made / ".installed").exists():
        return made / "bin" / "python"
    version = makefile_value("AIRFLOW_VERSION")
    pins = [line for line in CONSTRAINTS.read_text().splitlines() if not line.startswith("#")]
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12]
    venv = Path(tempfile.gettempdir()) / f"cryptopythia-airflow-{version}-{digest}"
    with FileLock(f"{venv}.lock"):
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                + ["--progress-bar", "off", "-c", str(CONSTRAINTS), f"apache-airflow=={version}"],
                check=True,
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # no project
            )
            (venv / ".installed").touch()
    return venv / "bin" / "python"


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an Airflow CLI call with its own home (SQLite metadata database),
    no example DAGs."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        **extra,
    }
