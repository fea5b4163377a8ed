"""The compiled kernels' disk cache (indicators.kernel_cache) is shared by every copy of
the package: a served model runs a fresh copy of its code (`mlflow models serve`
downloads its artifacts per start), which compiled every kernel again at each start. An
edit to any module beside a kernel recompiles it (its helpers are inlined into it).

Each run is a fresh interpreter importing a copy of the package (as a served model's
worker does), with its own NUMBA_CACHE_DIR in the test's folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cryptopythia

# one small kernel (~0.7 s to compile); prints where numba cached it and its hits/misses
RUN_KERNEL = """
import json
import numpy as np
from cryptopythia.indicators.kernels_rolling import short_rolling_mean
out = np.empty(50)
short_rolling_mean(np.arange(50.0), 5, out)
stats = short_rolling_mean.stats
print(json.dumps({"module": short_rolling_mean.py_func.__code__.co_filename,
                  "cache": stats.cache_path,
                  "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "mean": out[-1]}))
"""


def copy_of_package(folder: Path) -> Path:
    """The package's modules copied into ``folder`` (no __pycache__), as MLflow logs them."""
    source = Path(cryptopythia.__file__).parent
    shutil.copytree(source, folder / "cryptopythia", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def run_kernel(package_folder: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_folder), "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_KERNEL], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_a_fresh_copy_of_the_package_loads_the_kernels_another_copy_compiled(tmp_path: Path):
    cache = tmp_path / "numba_cache"
    first = run_kernel(copy_of_package(tmp_path / "a"), cache)
    second = run_kernel(copy_of_package(tmp_path / "b"), cache)

    assert first["module"].startswith(str(tmp_path / "a"))
    assert second["module"].startswith(str(tmp_path / "b"))
    assert (first["hits"], first["misses"]) == (0, 1)
    assert (second["hits"], second["misses"]) == (1, 0)  # loaded, not compiled again
    assert second["mean"] == first["mean"] == 47.0
    # cached under the package's name, not beside the copy's files
    assert first["cache"] == second["cache"] == str(cache / "cryptopythia" / "indicators")
    assert not list((tmp_path / "b").rglob("*.nbi"))


def test_an_edit_beside_a_kernel_compiles_it_again(tmp_path: Path):
    cache = tmp_path / "numba_cache"
    package = copy_of_package(tmp_path / "a")
    run_kernel(package, cache)
    # the kernel's own file is unchanged; a helper module beside it is edited
    helpers = package / "cryptopythia" / "indicators" / "kernels_sums.py"
    helpers.write_text(helpers.read_text() + "\n# edited\n")

    edited = run_kernel(package, cache)

    assert (edited["hits"], edited["misses"]) == (0, 1)
    assert run_kernel(package, cache)["hits"] == 1  # and cached again
