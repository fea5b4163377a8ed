"""Real training + backtest sessions: the table, MLflow artifacts and the champion gate."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.backtest.baseline_walk import walk_forward_baselines
from cryptopythia.backtest.walk_forward import make_origin_table
from cryptopythia.features import check_parameters

from conftest import ONE_EPOCH, run_kedro

pytestmark = pytest.mark.slow

BACKTEST = {
    **ONE_EPOCH,
    "backtest.n_origins": 12,
    "backtest.refit_every": 6,
    "backtest.horizon": 5,
    "backtest.epochs": 1,
}
# Every rule of the gate relaxed: what a network trained for one epoch can pass.
RELAXED = {
    "backtest.gate.max_ratio_to_naive": 100.0,
    "backtest.gate.dm_worse_p_value": 0.0,
    "backtest.gate.coverage_80": [0.0, 1.0],
    "backtest.gate.max_interval_score_ratio": 100.0,
    "backtest.gate.var_test_p_value": 0.0,
}
INTERVAL_MODELS = {"conv1d_lstm", "naive_ewma", "naive_garch", "naive_garch_t", "naive_har_range"}


def test_backtest_reports_every_model_and_gates_the_champion(trained_project):
    client = MlflowClient()
    # An impossible gate: the network must be 100x better than naive.
    run_kedro(
        trained_project, "backtest", params={**BACKTEST, "backtest.gate.max_ratio_to_naive": 0.01}
    )
    table = pd.read_csv(trained_project / "data/08_reporting/backtest.csv")
    overall = table[table["scope"] == "overall"].set_index("model")
    assert (
        set(overall.index)
        == {
            "conv1d_lstm",
            "conv1d_lstm_unshrunk",  # the network's own forecasts, before shrinkage
            "naive",
            "drift",
            "seasonal_naive",
            "moving_average_7",
            "AutoETS",
        }
        | INTERVAL_MODELS
    )
    # 12 dense origins, 5 steps each where the actual close is known: 8 x 5 + 4 + 3 + 2 + 1
    assert (overall["n"] == 50).all()  # the same rows for every model
    assert overall.loc["naive", "rmse_ratio_to_naive"] == 1.0
    assert set(table.loc[table["scope"] == "step", "key"].astype(int)) == {1, 2, 3, 4, 5}
    for coverage in ("coverage_80", "coverage_95"):
        assert overall.loc[sorted(INTERVAL_MODELS), coverage].between(0, 1).all()
        assert overall[coverage].drop(sorted(INTERVAL_MODELS)).isna().all()
    both = pd.read_csv(trained_project / "data/07_model_output/backtest_network_forecasts.csv")
    forecasts = both[both["model"] == "conv1d_lstm"]
    unshrunk = both[both["model"] == "conv1d_lstm_unshrunk"]
    assert (
        len(unshrunk) == len(forecasts) and (unshrunk["forecast"] != unshrunk["last_close"]).all()
    )
    # The table's numbers are those of the forecasts it summarises.
    errors = forecasts["actual"] - forecasts["forecast"]
    assert overall.loc["conv1d_lstm", "rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    inside = forecasts["actual"].between(forecasts["lower_80"], forecasts["upper_80"])
    assert overall.loc["conv1d_lstm", "coverage_80"] == pytest.approx(inside.mean())
    baselines = pd.read_csv(
        trained_project / "data/07_model_output/backtest_baseline_forecasts.csv"
    )
    naive = baselines[baselines["model"] == "naive"]
    assert (naive["forecast"] == naive["last_close"]).all()
    ratio = overall.loc["conv1d_lstm", "rmse"] / overall.loc["naive", "rmse"]
    assert overall.loc["conv1d_lstm", "rmse_ratio_to_naive"] == pytest.approx(ratio)
    assert (forecasts["lower_95"] <= forecasts["lower_80"]).all()
    assert (forecasts["lower_80"] <= forecasts["forecast"]).all()
    assert (forecasts["forecast"] <= forecasts["upper_80"]).all()
    assert (forecasts["upper_80"] <= forecasts["upper_95"]).all()

    gate = json.loads((trained_project / "data/08_reporting/gate.json").read_text())
    assert gate["promoted"] is False and "not promoted" in gate["reason"]
    version = client.get_model_version("btc_forecaster", gate["version"])
    assert version.tags["backtest_gate"] == gate["reason"]
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("btc_forecaster", "champion")

    run = client.search_runs(
        [client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id],
        filter_string="tags.`kedro_command` LIKE '%backtest%'",
    )[0]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "backtest")}
    assert {"backtest/backtest.csv", "backtest/backtest.png", "backtest/gate.json"} <= artifacts
    assert "backtest.conv1d_lstm.rmse_ratio_to_naive" in run.data.metrics
    assert "backtest.conv1d_lstm.dm_p_worse" in run.data.metrics
    assert "backtest.naive_ewma.interval_score_80" in run.data.metrics
    assert version.tags["backtest_step_1_rmse_ratio_to_naive"]  # every number on the version

    # Every rule relaxed but the Diebold-Mariano one, made impossible to pass: the gate
    # alone, on the walk-forward's summary stored by the run above (`--from-nodes`).
    run_kedro(
        trained_project,
        "backtest",
        params={**BACKTEST, **RELAXED, "backtest.gate.dm_worse_p_value": 1.01},
        from_nodes=["gate_champion"],
    )
    gate = json.loads((trained_project / "data/08_reporting/gate.json").read_text())
    assert gate["promoted"] is False and "DM shows it worse" in gate["reason"]

    # A relaxed gate promotes the staging model, its scaler and its served pyfunc.
    run_kedro(
        trained_project,
        "backtest",
        params={**BACKTEST, **RELAXED},
        from_nodes=["gate_champion"],
    )
    gate = json.loads((trained_project / "data/08_reporting/gate.json").read_text())
    assert gate["promoted"] is True
    champion = client.get_model_version_by_alias("btc_forecaster", "champion")
    staging = client.get_model_version_by_alias("btc_forecaster", "staging")
    assert champion.version == staging.version
    for name, tag in (
        ("btc_scaler", "scaler_version"),
        ("btc_candle_forecaster", "serving_version"),
    ):
        assert str(client.get_model_version_by_alias(name, "champion").version) == staging.tags[tag]


def test_a_backtest_of_another_recipe_reports_and_skips_the_gate(trained_project):
    run_kedro(
        trained_project, "backtest", params={**BACKTEST, **RELAXED, "modelling.target": "diff"}
    )
    gate = json.loads((trained_project / "data/08_reporting/gate.json").read_text())
    assert gate["promoted"] is False
    assert gate["reason"].startswith("gate skipped") and "parameters (target)" in gate["reason"]
    assert (trained_project / "data/08_reporting/backtest.csv").exists()
    with pytest.raises(mlflow.exceptions.MlflowException):
        MlflowClient().get_model_version_by_alias("btc_forecaster", "champion")


def test_baselines_never_see_the_future(trained_project):
    from cryptopythia.datasets import CandleCSVDataset

    gold = CandleCSVDataset(
        filepath=str(trained_project / "data/03_primary/gold.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()
    import yaml

    conf = trained_project / "conf" / "base"
    modelling = yaml.safe_load((conf / "parameters_modelling.yml").read_text())["modelling"]
    backtest = yaml.safe_load((conf / "parameters_backtest.yml").read_text())["backtest"]
    backtest.update(n_origins=12, refit_every=6, horizon=5)
    features = yaml.safe_load((conf / "parameters_feature_engineering.yml").read_text())
    units = check_parameters(features["feature_engineering"], "1d")["units"]
    table, spec, folds = make_origin_table(gold, modelling, units, backtest)
    before = walk_forward_baselines(table, spec, folds, backtest, modelling["intervals"])
    # Scramble everything from the first origin on, except the rows being forecast.
    scrambled = table.copy()
    first_origin = int(folds["origin"].min())
    rng = np.random.default_rng(0)
    scrambled.loc[first_origin:, "close_usd"] *= rng.uniform(0.5, 1.5, len(table) - first_origin)
    after = walk_forward_baselines(
        scrambled, spec, folds.iloc[:1], backtest, modelling["intervals"]
    )
    first = before[before["origin"] == first_origin].reset_index(drop=True)
    pd.testing.assert_series_equal(first["forecast"], after["forecast"])
