"""Fault injection for a `kedro run` subprocess (on its PYTHONPATH; tests only): after the
``CRYPTOPYTHIA_KILL_AFTER_ALIAS_MOVES``-th alias move of MLflow's client, the process
SIGKILLs itself, as a power cut or an OOM kill would stop it between two alias moves. The
move itself runs unchanged against the real store."""

import os
import signal

KILL_AFTER = int(os.environ.get("CRYPTOPYTHIA_KILL_AFTER_ALIAS_MOVES", "0"))

if KILL_AFTER:
    from mlflow.tracking import MlflowClient

    _set_alias = MlflowClient.set_registered_model_alias
    _moves = []

    def _set_alias_then_die(self, name, alias, version):
        _set_alias(self, name, alias, version)
        _moves.append((name, alias, version))
        if len(_moves) == KILL_AFTER:
            os.kill(os.getpid(), signal.SIGKILL)

    MlflowClient.set_registered_model_alias = _set_alias_then_die
