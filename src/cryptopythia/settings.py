"""Project settings: configuration loading for every environment."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader

# Environments (conf/offline, conf/intraday, conf/server) override single keys of a
# pipeline's parameters, so nested parameters and the MLflow config merge softly.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
}

from cryptopythia.hooks import MlflowRunResetHook, MlflowServerCheckHook  # noqa: E402

HOOKS = (MlflowServerCheckHook(), MlflowRunResetHook())
