"""A damaged sqlite MLflow store (random bytes, a truncated file) stops a run at once with
the file's name and the fix, not a SQLAlchemy trace from kedro-mlflow's set-up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from cryptopythia.hooks import MlflowServerCheckHook, check_sqlite_store

from support.mlflow_store import empty_mlflow_store


def damaged(path: Path, how: str) -> Path:
    if how == "random bytes":
        path.write_bytes(os.urandom(40_000))
    else:  # a copy cut short
        shutil.copy(empty_mlflow_store(), path)
        os.truncate(path, path.stat().st_size // 2)
    return path


@pytest.mark.parametrize("how", ["random bytes", "truncated"])
def test_a_damaged_store_is_named_with_the_fix(tmp_path, how):
    store = damaged(tmp_path / "mlflow.db", how)
    with pytest.raises(RuntimeError, match=rf"{store} .*not a readable SQLite database.*backup"):
        check_sqlite_store(f"sqlite:///{store}", "conf/local/mlflow.yml")


def test_a_sound_store_a_new_one_and_other_uris_pass(tmp_path):
    shutil.copy(empty_mlflow_store(), tmp_path / "mlflow.db")
    check_sqlite_store(f"sqlite:///{tmp_path / 'mlflow.db'}", "conf/local/mlflow.yml")
    check_sqlite_store(f"sqlite:///{tmp_path / 'new.db'}", "conf/local/mlflow.yml")  # made later
    (tmp_path / "empty.db").write_bytes(b"")  # sqlite's empty database: MLflow fills it
    check_sqlite_store(f"sqlite:///{tmp_path / 'empty.db'}", "conf/local/mlflow.yml")
    check_sqlite_store("http://127.0.0.1:1", "conf/local/mlflow.yml")  # the server check's


def test_the_hook_checks_the_configured_store(tmp_path):
    store = damaged(tmp_path / "mlflow.db", "random bytes")
    context = SimpleNamespace(
        env="local",
        config_loader={"mlflow": {"server": {"mlflow_tracking_uri": f"sqlite:///{store}"}}},
    )
    with pytest.raises(RuntimeError, match=r"conf/local/mlflow.yml"):
        MlflowServerCheckHook().after_context_created(context)


@pytest.mark.slow
def test_a_kedro_run_on_a_damaged_store_names_it(kedro_project: Path):
    from support.project import run_kedro

    store = damaged(kedro_project / "mlflow.db", "truncated")
    with pytest.raises(RuntimeError, match=rf"{store} .*not a readable SQLite database") as error:
        run_kedro(kedro_project, "inference")
    assert "sqlalchemy" not in str(error.value).lower()
