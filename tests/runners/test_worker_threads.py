"""The Dask worker's TensorFlow thread cap: it must not import TensorFlow on a worker that
has not (a fetch or feature node would pay seconds for nothing), yet a TensorFlow
imported later, or already imported, must run with the capped thread pools."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # three fresh TensorFlow imports: ~17 s

CAPPED_THEN_IMPORTED = """
import json, os, sys
from cryptopythia.runners.dask_worker import _limit_tensorflow_threads
_limit_tensorflow_threads(CAP)
imported = "tensorflow" in sys.modules
import tensorflow as tf
tf.linalg.matmul(tf.ones((256, 256)), tf.ones((256, 256)))
print(json.dumps({
    "imported_by_cap": imported,
    "omp": os.environ.get("OMP_NUM_THREADS"),
    "intra": os.environ.get("TF_NUM_INTRAOP_THREADS"),
    "inter": os.environ.get("TF_NUM_INTEROP_THREADS"),
    "os_threads": len(os.listdir("/proc/self/task")),
}))
"""

IMPORTED_THEN_CAPPED = """
import json
import tensorflow as tf
from cryptopythia.runners.dask_worker import _limit_tensorflow_threads
_limit_tensorflow_threads(1)
print(json.dumps({
    "intra": tf.config.threading.get_intra_op_parallelism_threads(),
    "inter": tf.config.threading.get_inter_op_parallelism_threads(),
}))
"""


def run_python(code: str, **environment: str) -> dict:
    """``code``'s JSON line from a fresh interpreter (TensorFlow reads its thread settings
    once per process, so each case needs its own)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3", **environment},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_cap_does_not_import_tensorflow_and_binds_a_later_import():
    seen = run_python(CAPPED_THEN_IMPORTED.replace("(CAP)", "(1)"), OMP_NUM_THREADS="3")
    assert not seen["imported_by_cap"], "the cap imported TensorFlow on a worker that had not"
    assert seen["intra"] == seen["inter"] == "1"
    assert seen["omp"] == "3", "a thread setting the worker was started with was overridden"
    uncapped = run_python(CAPPED_THEN_IMPORTED.replace("(CAP)", "(None)"), OMP_NUM_THREADS="3")
    if (os.cpu_count() or 1) > 1:  # TensorFlow's own pools are one thread each there
        assert seen["os_threads"] < uncapped["os_threads"], "TensorFlow ignored the cap"


def test_an_already_imported_tensorflow_is_capped_through_its_config():
    seen = run_python(IMPORTED_THEN_CAPPED)
    assert seen == {"intra": 1, "inter": 1}
