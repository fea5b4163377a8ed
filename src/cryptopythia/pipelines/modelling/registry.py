"""MLflow side effects of the modelling pipeline: the run name and the Model Registry.

kedro-mlflow opens the run and logs parameters, metrics and artifacts through the
catalog. What a dataset cannot do lives here: naming the run from a parameter, and
registering the network and its scaler together (with input examples, signatures
and the window spec as metadata), moving the ``staging`` alias and deciding on
``champion``. Registration runs last, after evaluation succeeded, and either
completes for both models or rolls back what it created.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from .nodes import KerasModel, scale_table

logger = logging.getLogger(__name__)


def default_run_name(params: dict[str, Any]) -> str:
    """``conv1d_lstm-log_return-n60-h1``: the model, target, window and horizon."""
    return (
        f"conv1d_lstm-{params['target']}-n{params['n_timesteps']}-h{params['horizon']}"
    )


def name_run(params: dict[str, Any]) -> str:
    """Name the active MLflow run from ``modelling.run_name`` (or the default)."""
    name = params.get("run_name") or default_run_name(params)
    if mlflow.active_run() is not None:
        mlflow.set_tag("mlflow.runName", name)
    return name


def pinned(*distributions: str) -> list[str]:
    """``name==version`` for the installed distributions among ``distributions``."""
    pins = []
    for name in distributions:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def _version_of(
    client: MlflowClient, name: str, alias: str
) -> Any | None:
    """The model version an alias points at, or None."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def champion_decision(
    client: MlflowClient,
    model_name: str,
    champion_alias: str,
    metric: str,
    value: float,
) -> tuple[bool, str]:
    """Whether a model with test ``metric`` = ``value`` beats the current champion (lower
    is better), and why, in one sentence."""
    current = _version_of(client, model_name, champion_alias)
    if current is None:
        return True, f"no '{champion_alias}' yet: first model with test {metric} {value:.4f}"
    current_value = current.tags.get(f"test_{metric}")
    if current_value is None and current.run_id:
        current_value = client.get_run(current.run_id).data.metrics.get(f"test.{metric}")
    if current_value is None:
        return True, (
            f"'{champion_alias}' v{current.version} has no test {metric} recorded; "
            f"replaced by test {metric} {value:.4f}"
        )
    current_value = float(current_value)
    if value < current_value:
        return True, (
            f"test {metric} {value:.4f} < {current_value:.4f} of '{champion_alias}' "
            f"v{current.version}"
        )
    return False, (
        f"test {metric} {value:.4f} >= {current_value:.4f} of '{champion_alias}' "
        f"v{current.version}: not promoted"
    )


def register_models(  # noqa: PLR0913
    model: KerasModel,
    scaler: Any,
    train: pd.DataFrame,
    report: dict[str, Any],
    spec: dict[str, Any],
    registry: dict[str, Any],
    run_name: str,
    radii: dict[str, list[float]],
    feature_params: dict[str, Any],
    gold: pd.DataFrame,
) -> dict[str, Any]:
    """Log the network, the scaler and the served candles -> forecast pyfunc to the run,
    register all three, point ``staging`` at the new versions and ``champion`` too when
    the test metric beats the champion's (unless the backtest gate decides, see
    ``registry.champion_requires_backtest``).

    Runs after evaluation (it needs ``report``). Any failure after the first version
    was created deletes the created versions and puts the aliases back.
    """
    run = mlflow.active_run()
    if run is None or not registry.get("register", True):
        reason = "no active MLflow run" if run is None else "modelling.registry.register is false"
        logger.warning("Models not registered: %s.", reason)
        return {"registered": False, "reason": reason}

    client = MlflowClient()
    names = {"model": registry["model_name"], "scaler": registry["scaler_name"],
             "serving": registry["serving_model_name"]}
    metric = registry["champion_metric"]
    value = float(report["test"][metric])
    champion_alias = registry.get("champion_alias", "champion")
    promote, reason = champion_decision(client, names["model"], champion_alias, metric, value)
    if promote and registry.get("champion_requires_backtest", True):
        promote, reason = False, f"champion candidate ({reason}); the backtest gate decides"
    aliases = [registry.get("alias", "staging"), *([champion_alias] if promote else [])]

    # What inference needs besides the weights: the window spec, the feature parameters
    # and the calibrated interval radii.
    metadata = {**spec, "feature_params": feature_params, "radii": radii,
                "run_name": run_name, "model_output": "scaled target, see spec"}
    infos = _log_models(model, scaler, train, spec, names, metadata)
    # Imported here: the inference package imports modelling's nodes.
    from ..inference.forecasting import Forecaster
    from ..inference.pyfunc import log_candle_forecaster

    forecaster = Forecaster(model=model, scaler=scaler, spec=spec, feature_params=feature_params,
                            interval=spec["interval"], radii=radii)
    with _quiet_logging():
        infos["serving"] = log_candle_forecaster(
            forecaster, names["serving"], gold, int(registry["max_horizon"]),
            int(registry["min_candles"]),
        )
    versions = _register_pair(
        client, infos, names, _version_tags(report, spec, metric, value, run_name), aliases,
        reason,
    )
    mlflow.set_tags({"champion_decision": reason, "registered_model_version": versions["model"],
                     "registered_scaler_version": versions["scaler"],
                     "registered_serving_version": versions["serving"]})
    logger.info(
        "Registered %s v%s, %s v%s and %s v%s with aliases %s (%s).",
        names["model"], versions["model"], names["scaler"], versions["scaler"],
        names["serving"], versions["serving"], aliases, reason,
    )
    return {
        "registered": True,
        "run_id": run.info.run_id,
        "model": {"name": names["model"], "version": versions["model"],
                  "uri": infos["model"].model_uri},
        "scaler": {"name": names["scaler"], "version": versions["scaler"],
                   "uri": infos["scaler"].model_uri},
        "serving": {"name": names["serving"], "version": versions["serving"],
                    "uri": infos["serving"].model_uri},
        "aliases": aliases,
        "champion_decision": reason,
    }


def _version_tags(
    report: dict[str, Any], spec: dict[str, Any], metric: str, value: float, run_name: str
) -> dict[str, str]:
    """Tags of both new versions: their test score and what they were trained for."""
    period = report["test_period"]
    return {
        f"test_{metric}": f"{value:.6f}",
        "test_rmse_ratio_to_naive": f"{report['test']['rmse_ratio_to_naive']:.6f}",
        "test_period": f"{period['first_target']} -> {period['last_target']}",
        "target": spec["target"],
        "n_timesteps": str(spec["n_timesteps"]),
        "horizon": str(spec["horizon"]),
        "interval": spec["interval"],
        "run_name": run_name,
    }


def _register_pair(  # noqa: PLR0913
    client: MlflowClient,
    infos: dict[str, Any],
    names: dict[str, str],
    tags: dict[str, str],
    aliases: list[str],
    reason: str,
) -> dict[str, str]:
    """Register the logged network and scaler, cross-reference them, move the aliases;
    all or nothing."""
    created: list[tuple[str, str]] = []
    previous_aliases: dict[tuple[str, str], str | None] = {}
    new_models = [name for name in names.values() if not _exists(client, name)]
    try:
        versions = {}
        for kind, name in names.items():
            version = mlflow.register_model(infos[kind].model_uri, name, tags=tags)
            created.append((name, str(version.version)))
            versions[kind] = str(version.version)
        client.set_model_version_tag(names["model"], versions["model"], "scaler_version",
                                     versions["scaler"])
        client.set_model_version_tag(names["model"], versions["model"], "serving_version",
                                     versions["serving"])
        client.set_model_version_tag(names["serving"], versions["serving"], "model_version",
                                     versions["model"])
        client.set_model_version_tag(names["scaler"], versions["scaler"], "model_version",
                                     versions["model"])
        client.set_model_version_tag(names["model"], versions["model"], "champion_decision",
                                     reason)
        for kind, name in names.items():
            for alias in aliases:
                current = _version_of(client, name, alias)
                client.set_registered_model_alias(name, alias, versions[kind])
                previous_aliases[(name, alias)] = current.version if current else None
    except Exception:
        _roll_back(client, created, previous_aliases, new_models)
        raise
    return versions


def _log_models(
    model: KerasModel,
    scaler: Any,
    train: pd.DataFrame,
    spec: dict[str, Any],
    names: dict[str, str],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Log both models to the active run with input examples and signatures."""
    import mlflow.sklearn
    import mlflow.tensorflow

    # Row 0 of diff/log_return targets is NaN: the examples start one row later.
    rows = train.iloc[1 : 1 + spec["n_timesteps"]]
    window = scale_table(scaler, rows, spec)[None, ...]
    scaler_example = rows[spec["scaler_columns"]].head(5)
    # The tensorflow flavor (a .keras file, Keras 3 on the TF backend): mlflow.keras
    # 3.17 writes the input example before creating the model folder and fails.
    with _quiet_logging():
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
def _quiet_logging() -> Iterator[None]:
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


def move_alias(client: MlflowClient, versions: dict[str, str], alias: str) -> None:
    """Point ``alias`` of each registered model at its version, all or none: on a failure
    the aliases already moved are put back where they were."""
    previous: dict[str, str | None] = {}
    try:
        for name, version in versions.items():
            current = _version_of(client, name, alias)
            client.set_registered_model_alias(name, alias, version)
            previous[name] = str(current.version) if current else None
    except Exception:
        for name, version in previous.items():
            if version is None:
                client.delete_registered_model_alias(name, alias)
            else:
                client.set_registered_model_alias(name, alias, version)
        raise


def _exists(client: MlflowClient, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except MlflowException:
        return False
    return True


def _roll_back(
    client: MlflowClient,
    created: list[tuple[str, str]],
    previous_aliases: dict[tuple[str, str], str | None],
    new_models: list[str],
) -> None:
    """Undo a partial registration: restore the aliases, delete the created versions and
    the registered models this registration created."""
    for (name, alias), version in previous_aliases.items():
        try:
            if version is None:
                client.delete_registered_model_alias(name, alias)
            else:
                client.set_registered_model_alias(name, alias, version)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not restore alias %s@%s: %s", name, alias, error)
    for name, version in created:
        try:
            client.delete_model_version(name, version)
            logger.warning("Rolled back %s v%s after a failed registration.", name, version)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not delete %s v%s: %s", name, version, error)
    for name in new_models:
        try:
            if _exists(client, name):
                client.delete_registered_model(name)
        except MlflowException as error:  # pragma: no cover - best effort
            logger.error("Could not delete the registered model %s: %s", name, error)
