"""Logging and registering a trained forecaster: the network, its scaler and the served
candles -> forecast pyfunc, registered together or not at all.

Why hand-written rather than kedro-mlflow's ``pipeline_ml_factory``: the served model
takes request parameters (``steps``/``target_date``), answers bad payloads with HTTP 400,
and three registered models (network, scaler, pyfunc) must get their versions, partner
tags and aliases in one all-or-nothing step; see docs/registry_serving.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from ..model.forecaster import Forecaster
from ..model.scaling import scale_table
from ..model.spec import ModelSpec
from ..model.training import KerasModel
from ..serving.pyfunc import SERVING_LIMITS, log_candle_forecaster
from ..serving.requirements import pinned
from .aliases import (
    delete_versions,
    forecaster_names,
    model_exists,
    move_aliases,
    record_previous,
    repair_split_alias,
)

logger = logging.getLogger(__name__)

# The three registered models of one trained forecaster, by role.
ROLES = ("model", "scaler", "serving")
DESCRIPTIONS = {
    "model": "Conv1D + LSTM network (Keras 3): scaled windows of the inputs -> scaled "
    "targets of the next `horizon` candles. Each version's metadata holds what it was built "
    "with: the window spec (input mode, target kind, horizon), feature parameters, shrinkage "
    "weights, interval settings and the volatility model's parameters.",
    "scaler": "The scaler of the network's inputs and target, fitted on the training rows; "
    "load the version named by the network version's scaler_version tag.",
    "serving": "Raw Binance candles (open_time ms, open, high, low, close, volume; at least "
    "min_candles of the latest) -> close forecasts with 80/95% intervals; params steps or "
    "target_date. Served by `mlflow models serve`.",
}


def register_forecaster(
    forecaster: Forecaster,
    train: pd.DataFrame,
    report: dict[str, Any],
    registry: dict[str, Any],
    run_name: str,
    gold: pd.DataFrame,
    champion: tuple[bool, str],
) -> dict[str, Any]:
    """Log the three models to the active run and register them with ``staging`` (and
    ``champion`` when ``champion[0]``); returns what was registered."""
    names = forecaster_names(registry)
    promote, reason = champion
    aliases = [registry["alias"], *([registry["champion_alias"]] if promote else [])]
    for alias in (registry["alias"], registry["champion_alias"]):  # e.g. a run killed mid-move
        repair_split_alias(MlflowClient(), names, alias)
    spec = forecaster.spec
    # What inference needs besides the weights (Forecaster.from_artifacts reads it back):
    # the window spec, the feature parameters, the shrinkage weights, the interval settings.
    network, scaler, stored = forecaster.to_artifacts()
    metadata = {**stored, "run_name": run_name, "model_output": "scaled target, see spec"}
    infos = log_models(network, scaler, train, spec, names, metadata)
    with quiet_logging():
        infos["serving"] = log_candle_forecaster(
            forecaster,
            names["serving"],
            gold,
            {key: int(registry[key]) for key in SERVING_LIMITS},
        )
    metric = registry["champion_metric"]
    tags = version_tags(
        report,
        spec,
        metric,
        float(report["test"][metric]),
        run_name,
        volatility=forecaster.intervals["volatility"],
    )
    versions = register_all(MlflowClient(), infos, names, tags, aliases, reason)
    mlflow.set_tags(
        {
            "champion_decision": reason,
            **{f"registered_{role}_version": versions[role] for role in ROLES},
        }
    )
    logger.info(
        "Registered %s with aliases %s (%s).",
        ", ".join(f"{names[r]} v{versions[r]}" for r in ROLES),
        aliases,
        reason,
    )
    return {
        "registered": True,
        "run_id": mlflow.active_run().info.run_id,
        **{
            role: {"name": names[role], "version": versions[role], "uri": infos[role].model_uri}
            for role in ROLES
        },
        "aliases": aliases,
        "champion_decision": reason,
    }


def version_tags(
    report: dict[str, Any],
    spec: ModelSpec,
    metric: str,
    value: float,
    run_name: str,
    volatility: str | None = None,
) -> dict[str, str]:
    """Tags of both new versions: their test score and what they were trained for, with
    the volatility model of their intervals (``modelling.intervals.volatility``: per
    market, benchmarks/risk.py's choice) as ``interval_volatility``."""
    period = report["test_period"]
    return {
        f"test_{metric}": f"{value:.6f}",
        "test_rmse_ratio_to_naive": f"{report['test']['rmse_ratio_to_naive']:.6f}",
        "test_period": f"{period['first_target']} -> {period['last_target']}",
        "target": spec.target,
        "n_timesteps": str(spec.n_timesteps),
        "horizon": str(spec.horizon),
        "interval": spec.interval,
        "run_name": run_name,
        **({"interval_volatility": str(volatility)} if volatility else {}),
    }


def register_all(
    client: MlflowClient,
    infos: dict[str, Any],
    names: dict[str, str],
    tags: dict[str, str],
    aliases: list[str],
    reason: str,
) -> dict[str, str]:
    """Register the logged network, scaler and pyfunc, cross-reference them, move the
    aliases; all or nothing."""
    created: list[tuple[str, str]] = []
    new_models = [name for name in names.values() if not model_exists(client, name)]
    try:
        versions = {}
        for role, name in names.items():
            version = mlflow.register_model(infos[role].model_uri, name, tags=tags)
            created.append((name, str(version.version)))
            versions[role] = str(version.version)
        partner_tags = {
            "model": {
                "scaler_version": versions["scaler"],
                "serving_version": versions["serving"],
                "champion_decision": reason,
            },
            "serving": {"model_version": versions["model"]},
            "scaler": {"model_version": versions["model"]},
        }
        for role, role_tags in partner_tags.items():
            for key, value in role_tags.items():
                client.set_model_version_tag(names[role], versions[role], key, value)
        for role, name in names.items():
            client.update_registered_model(name, DESCRIPTIONS[role])
        for alias in aliases:
            record_previous(client, names["model"], versions["model"], alias)
        move_aliases(client, {names[role]: versions[role] for role in ROLES}, aliases)
    except Exception:
        delete_versions(client, created, new_models)
        raise
    return versions


def log_models(
    model: KerasModel,
    scaler: Any,
    train: pd.DataFrame,
    spec: ModelSpec,
    names: dict[str, str],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Log both models to the active run with input examples and signatures."""
    import mlflow.sklearn  # imports TensorFlow: only when a model is loaded/logged
    import mlflow.tensorflow

    # Row 0 of diff/log_return targets is NaN: the examples start one row later.
    rows = train.iloc[1 : 1 + spec.n_timesteps]
    window = scale_table(scaler, rows, spec)[None, ...]
    scaler_example = rows[list(spec.scaler_columns)].head(5)
    # The tensorflow flavor (a .keras file, Keras 3 on the TF backend): mlflow.keras
    # 3.17 writes the input example before creating the model folder and fails.
    with quiet_logging():
        model_info = mlflow.tensorflow.log_model(
            model,
            name=names["model"],
            signature=infer_signature(window, np.asarray(model.predict(window, verbose=0))),
            input_example=window,
            metadata=metadata,
            # Explicit requirements: skips MLflow's slow inference in a subprocess.
            pip_requirements=pinned("keras", "tensorflow-cpu", "tensorflow"),
        )
        # A scaler has no predict(): no pyfunc flavor, so MLflow's serving check of the
        # input example can only warn; load it with mlflow.sklearn.load_model.
        scaler_info = mlflow.sklearn.log_model(
            scaler,
            name=names["scaler"],
            signature=infer_signature(scaler_example, scaler.transform(scaler_example)),
            input_example=scaler_example,
            metadata=metadata,
            pip_requirements=pinned("scikit-learn", "skops"),
        )
    return {"model": model_info, "scaler": scaler_info}


@contextmanager
def quiet_logging() -> Iterator[None]:
    """Silence Keras' progress bars and MLflow's serving-example warnings while logging."""
    import keras

    model_logger = logging.getLogger("mlflow.models.model")
    level = model_logger.level
    keras.utils.disable_interactive_logging()
    model_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        model_logger.setLevel(level)
        keras.utils.enable_interactive_logging()
