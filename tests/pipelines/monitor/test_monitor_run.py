"""The daily loop in real `kedro run`s on a trained project: `replay` fills the SQLite
ledger as a daily `forecast` would have, `monitor` scores it (JSON, MLflow metrics per
origin, registry tags) and draws a report that a real headless browser renders."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cryptopythia.datasets import CandleCSVDataset

from conftest import run_kedro

pytestmark = pytest.mark.slow

SILVER = "data/02_intermediate/silver.csv"
NAMES = ("btc_forecaster", "btc_scaler", "btc_candle_forecaster")


def silver_of(project: Path) -> pd.DataFrame:
    return CandleCSVDataset(filepath=str(project / SILVER), datetime_columns=["open_time"]).load()


def ledger_of(project: Path) -> pd.DataFrame:
    with sqlite3.connect(project / "forecast_ledger.db") as connection:
        return pd.read_sql("SELECT * FROM forecast_ledger", connection)


def replay(project: Path, start: pd.Timestamp, end: pd.Timestamp) -> None:
    run_kedro(
        project,
        "replay",
        params={"replay.start": start.date().isoformat(), "replay.end": end.date().isoformat()},
    )


def rendered_charts(page: Path) -> tuple[list[int], str]:
    """Traces drawn in each chart of ``page`` after its scripts ran in headless Chromium,
    and what the page's console said."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: `make browser` installs it (Debian's chromium)"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
        + ["--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    charts = re.split(r'<g class="subplot ', done.stdout)[1:]
    return [chart.count('class="trace scatter') for chart in charts], done.stderr


def test_replay_then_monitor_scores_tags_and_reports(trained_project: Path):
    times = silver_of(trained_project)["open_time"]
    replay(trained_project, times.iloc[-60], times.iloc[-1])
    ledger = ledger_of(trained_project)
    assert len(ledger) == 60 * 30 and ledger["origin"].nunique() == 60
    replay(trained_project, times.iloc[-60], times.iloc[-1])  # again: nothing added
    assert len(ledger_of(trained_project)) == 60 * 30

    run_kedro(trained_project, "monitor")

    report = json.loads((trained_project / "data/08_reporting/monitoring.json").read_text())
    (version,) = report["versions"]
    assert version["model_version"] == "1" and version["status"] in ("ok", "warn", "alarm")
    assert version["origins"] == 30
    scores = pd.DataFrame(report["scores"])
    step_one = scores[(scores["step"] == 1) & (scores["window"] == "all")].iloc[0]
    assert step_one["n"] == 59  # the last origin's candle has not come
    assert 0 < step_one["coverage_80"] <= 1 and step_one["interval_score_ratio_80"] > 0

    client = MlflowClient()
    for name in NAMES:
        assert client.get_model_version(name, "1").tags["monitor_status"] == version["status"]
    (run,) = client.search_runs(
        [client.get_experiment_by_name("Bitcoin_Forecasting").experiment_id],
        "attributes.run_name = 'monitor'",
    )
    history = client.get_metric_history(run.info.run_id, "monitor.btc_forecaster.v1.coverage_80")
    days = (times.iloc[-60:-1] - pd.Timestamp(0, tz="UTC")).dt.days.tolist()
    assert [m.step for m in history] == days  # the origin (in candles since 1970) as the step

    traces, console = rendered_charts(trained_project / "data/08_reporting/monitoring.html")
    assert len(traces) == 3 and all(count > 0 for count in traces), traces
    assert "Uncaught" not in console


def test_a_replayed_day_equals_a_forecast_made_that_day(trained_project: Path):
    silver = silver_of(trained_project)
    day = silver["open_time"].iloc[-10]
    replay(trained_project, silver["open_time"].iloc[-12], day)
    replayed = ledger_of(trained_project)
    replayed = replayed[pd.to_datetime(replayed["origin"]) == day.tz_localize(None)]

    # the silver a daily run would have seen that day, then the real inference run
    CandleCSVDataset(filepath=str(trained_project / SILVER)).save(
        silver[silver["open_time"] <= day]
    )
    run_kedro(trained_project, "inference")
    made = pd.read_csv(trained_project / "data/07_model_output/forecast.csv")
    assert len(made) == len(replayed) == 30
    columns = ("forecast_close", "lower_80", "upper_80", "lower_95", "upper_95", "sigma_log")
    for column in (*columns, "quantile_0.01", "quantile_0.99"):  # inference.quantiles too
        pd.testing.assert_series_equal(
            replayed.sort_values("step")[column].reset_index(drop=True),
            made[column],
            check_names=False,
            rtol=1e-12,
        )
    assert len(ledger_of(trained_project)) == 3 * 30  # the same key: stored once


def test_replay_then_monitor_over_two_listed_pairs(kedro_project: Path, tmp_path: Path):
    """Two listed pairs (generated dumps, one epoch): `replay` and `monitor` run once per
    pair in its namespace; each pair's forecasts land in the one ledger under its symbol,
    its report goes to its own folder and its status to its own registered models."""
    from support.pairs import list_pairs, write_kline_dump

    pairs = {"ethusdt_1d": "ETHUSDT", "solusdt_1d": "SOLUSDT"}
    for seed, namespace in enumerate(pairs, start=1):
        write_kline_dump(tmp_path / "dumps" / f"{namespace}.csv", 900, seed=seed)
    dump_path = f"{tmp_path / 'dumps'}/{{pair}}.csv"
    list_pairs(kedro_project, "offline", list(pairs.values()), ["1d"], dump_path=dump_path)
    run_kedro(kedro_project, "training", env="offline", params={"modelling.epochs": 1})

    times = CandleCSVDataset(
        filepath=str(kedro_project / "data/02_intermediate/pairs/ethusdt_1d/silver.csv"),
        datetime_columns=["open_time"],
    ).load()["open_time"]
    replayed = {
        "replay.start": times.iloc[-25].date().isoformat(),
        "replay.end": times.iloc[-1].date().isoformat(),
        "inference.default_steps": 3,
    }
    run_kedro(kedro_project, "replay", env="offline", params=replayed)
    run_kedro(kedro_project, "monitor", env="offline")

    ledger = ledger_of(kedro_project)
    client = MlflowClient()
    for namespace, symbol in pairs.items():
        rows = ledger[ledger["symbol"] == symbol]
        assert len(rows) == 25 * 3 and rows["origin"].nunique() == 25
        assert set(rows["model_name"]) == {f"{namespace}_forecaster"}
        folder = kedro_project / "data/08_reporting/pairs" / namespace
        report = json.loads((folder / "monitoring.json").read_text())
        (version,) = report["versions"]
        assert version["model_name"] == f"{namespace}_forecaster"
        assert version["origins"] == 24  # the last origin's candle has not closed
        assert (folder / "monitoring.html").read_text().count(f"{symbol} monitoring") == 1
        for role in ("forecaster", "scaler", "candle_forecaster"):
            tags = client.get_model_version(f"{namespace}_{role}", "1").tags
            assert tags["monitor_status"] == version["status"]
    assert sorted(ledger["symbol"].unique()) == sorted(pairs.values())
    assert not (kedro_project / "data/08_reporting/monitoring.json").exists()
