"""Nodes of the modelling pipeline that are not library functions as they stand: the run
name, the forecaster bundle and its registration (the rest is wired from ``model``)."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from ...candles import interval_of
from ...features import check_parameters
from ...model.forecaster import Forecaster
from ...model.spec import ModelSpec
from ...model.table import prepare_model_table
from ...registry.promotion import training_candidacy
from ...registry.registration import register_forecaster

logger = logging.getLogger(__name__)


def name_run(params: dict[str, Any]) -> str:
    """Name the active MLflow run ``modelling.run_name``, or ``<network>-<target>-n<n>-h<h>``."""
    name = params["run_name"] or (
        f"{params['network_name']}-{params['target']}-n{params['n_timesteps']}-h{params['horizon']}"
    )
    if mlflow.active_run() is not None:
        mlflow.set_tag("mlflow.runName", name)
    return name


def make_model_table(
    gold: pd.DataFrame, modelling: dict[str, Any], feature_params: dict[str, Any]
) -> tuple[pd.DataFrame, ModelSpec]:
    """The model table and window spec of gold, with the units of gold's columns from the
    feature_engineering plan."""
    units = check_parameters(feature_params, interval_of(gold["open_time"]))["units"]
    return prepare_model_table(gold, modelling, units)


def register_models(
    forecaster: Forecaster,
    train: pd.DataFrame,
    report: dict[str, Any],
    registry: dict[str, Any],
    run_name: str,
    gold: pd.DataFrame,
) -> dict[str, Any]:
    """Register network, scaler and served pyfunc with ``staging`` (``champion`` per
    ``registry.champion_requires_backtest``); all or nothing, after evaluation."""
    run = mlflow.active_run()
    if run is None or not registry["register"]:
        reason = "no active MLflow run" if run is None else "modelling.registry.register is false"
        logger.warning("Models not registered: %s.", reason)
        return {"registered": False, "reason": reason}
    candidacy = training_candidacy(MlflowClient(), registry, report)
    return register_forecaster(forecaster, train, report, registry, run_name, gold, candidacy)
