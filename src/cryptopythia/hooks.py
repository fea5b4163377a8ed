"""Project hooks."""

from __future__ import annotations

import urllib.request
from typing import Any

from kedro.framework.hooks import hook_impl


class MlflowServerCheckHook:
    """Fail at once, with the fix, when the configured MLflow tracking server is down.

    Without it MLflow retries a refused connection for minutes before kedro-mlflow's
    own set-up fails with a bare connection error.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        uri = context.config_loader["mlflow"].get("server", {}).get("mlflow_tracking_uri")
        if not uri or not str(uri).startswith(("http://", "https://")):
            return
        try:
            urllib.request.urlopen(f"{str(uri).rstrip('/')}/health", timeout=5)
        except OSError as error:
            raise RuntimeError(
                f"The MLflow tracking server {uri} (conf/<env>/mlflow.yml) is unreachable "
                f"({error}). Start it (README: `mlflow server ... --port 8000`) or run "
                "without --env server to use the local sqlite store."
            ) from error


class MlflowRunResetHook:
    """Forget kedro-mlflow's run once a pipeline ends.

    kedro-mlflow's hook is one object per process and keeps the id of the last run it
    opened; a later session in the same process (a notebook, a test, an API) whose
    pipeline has tracking disabled would re-open that run before every node.
    """

    @staticmethod
    def _forget() -> None:
        from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

        mlflow_hook.run_id = None

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._forget()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._forget()
