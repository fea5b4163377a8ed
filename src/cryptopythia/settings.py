"""Project settings: configuration loading for every environment."""

import os
import warnings

# TensorFlow's C++ INFO lines ("This TensorFlow binary is optimized to use available CPU
# instructions...", absl's "All log messages before absl::InitializeLog()") are printed to
# stderr before Python logging can see them and say nothing to act on; warnings and errors
# still show. Set before the pipelines import TensorFlow; an exported value wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

# Library warnings this project cannot fix (conf/logging.yml silences the logged ones):
# omegaconf 2.4 deprecates register_new_resolver(), which Kedro 1.7's OmegaConfigLoader
# and kedro-mlflow 2.0.3 still call at every session start, a UserWarning block each time
# (pyproject's pytest filterwarnings ignores it in the tests for the same reason).
warnings.filterwarnings(
    "ignore", message=r"register_new_resolver\(\) is deprecated", category=UserWarning
)
# kedro-mlflow 2.0.3's KedroPipelineModel (which this project does not use) defines a
# predict() without type hints; MLflow 3 warns when the class is created, at every run,
# under its own warnings filter (so filterwarnings cannot silence it): create it here,
# once, with the warning recorded and dropped.
with warnings.catch_warnings(record=True):
    import kedro_mlflow.mlflow  # noqa: F401
# MLflow hints that integer columns cannot hold missing values: the served model's candle
# times are integers on purpose, and a request with a missing value is refused (HTTP 400).
warnings.filterwarnings(
    "ignore", message=r"Hint: Inferred schema contains integer column", category=UserWarning
)

from cryptopythia.kedro_startup import speed_up_start  # noqa: E402
from cryptopythia.pairs import PairsConfigLoader  # noqa: E402

# Kedro's start-up costs that grow with a run's datasets (many pairs: tens of thousands),
# taken out without changing what it does (kedro_startup.py).
speed_up_start()

# Kedro's OmegaConfigLoader, plus a namespaced copy of the parameters per listed pair.
CONFIG_LOADER_CLASS = PairsConfigLoader

# Environments (conf/offline, conf/intraday, conf/server) override single keys of a
# pipeline's parameters, so nested parameters and the MLflow config merge softly.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "dask": ["dask*", "dask*/**"],  # the cluster of cryptopythia.runners.DaskRunner
        "airflow": ["airflow*", "airflow*/**"],  # kedro-airflow's DAGs (deploy/airflow)
    },
}

from cryptopythia.data_hooks import (  # noqa: E402
    DataLockHook,
    MlflowDatasetInputHook,
    StaleSilverHook,
)
from cryptopythia.hooks import (  # noqa: E402
    MlflowRunResetHook,
    MlflowServerCheckHook,
    MlflowStaleRunHook,
    ParameterCheckHook,
    ProjectConfigHook,
    SecretParametersHook,
)

HOOKS = (
    ProjectConfigHook(),
    MlflowServerCheckHook(),
    MlflowRunResetHook(),
    MlflowDatasetInputHook(),
    DataLockHook(),
    StaleSilverHook(),
    SecretParametersHook(),
    MlflowStaleRunHook(),
    ParameterCheckHook(),
)
