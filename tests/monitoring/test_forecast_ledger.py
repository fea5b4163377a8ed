"""The forecast ledger on real databases (SQLite files, PostgreSQL from the pgserver wheel):
a forecast written twice is stored once, a batch that fails stores none of its rows, a
locked or unreachable database is named without its password."""

from __future__ import annotations

import copy
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from kedro.io import DatasetError

from cryptopythia.datasets import ForecastLedgerDataset
from cryptopythia.monitoring.ledger import ledger_rows

from support.team_services import Postgres


def forecast_table(version: str = "3", steps: int = 3, start: str = "2025-03-02") -> pd.DataFrame:
    """A forecast as the inference pipeline writes it (close, bounds, the model's identity)."""
    close = 80_000.0 + 100.0 * np.arange(steps)
    return pd.DataFrame(
        {
            "open_time": pd.date_range(start, periods=steps, freq="D", tz="UTC"),
            "step": np.arange(1, steps + 1),
            "forecast_close": close,
            "lower_80": close * 0.97,
            "upper_80": close * 1.03,
            "lower_95": close * 0.95,
            "upper_95": close * 1.05,
            "model_name": "btc_forecaster",
            "model_version": version,
            "model_alias": "staging",
            "scaler_version": version,
        }
    )


def rows(origin: str = "2025-03-01", **kwargs) -> pd.DataFrame:
    return ledger_rows(
        forecast_table(**kwargs),
        pd.Timestamp(origin, tz="UTC"),
        "BTCUSDT",
        "1d",
        "run-1",
        pd.Timestamp("2025-03-01T00:05", tz="UTC"),
        made_by="inference",
    )


def sqlite_ledger(path: Path, timeout: float = 5) -> ForecastLedgerDataset:
    return ForecastLedgerDataset(
        table_name="forecast_ledger",
        credentials={"con": f"sqlite:///{path}"},
        lock_timeout_seconds=timeout,
    )


def check_idempotent_and_atomic(ledger: ForecastLedgerDataset) -> None:
    first = rows()
    ledger.save(first)
    ledger.save(first)  # the same forecast again: nothing changes
    stored = ledger.load()
    assert len(stored) == 3
    pd.testing.assert_series_equal(
        stored.sort_values("step")["upper_95"].reset_index(drop=True),
        first["upper_95"],
        check_names=False,
    )
    assert stored["origin"].dt.tz is not None and (stored["origin"] == first["origin"][0]).all()

    # a batch whose last row breaks the table (no model name) stores none of its rows
    broken = pd.concat([rows(origin="2025-03-02", start="2025-03-03"), rows(origin="2025-03-03")])
    broken.iloc[-1, broken.columns.get_loc("model_name")] = None
    with pytest.raises(DatasetError, match="could not write|Could not write"):
        ledger.save(broken)
    assert len(ledger.load()) == 3

    # a coverage or a scale new to the table gets its columns; older rows hold NULL there
    wider = rows(origin="2025-03-04")
    wider["lower_50"], wider["upper_50"] = wider["forecast_close"], wider["forecast_close"]
    wider["sigma_log"], wider["quantile_50"] = 0.02, 0.67
    ledger.save(wider)
    stored = ledger.load()
    assert len(stored) == 6 and stored["lower_50"].isna().sum() == 3
    assert stored["sigma_log"].isna().sum() == 3 and stored["quantile_50"].max() == 0.67


def test_sqlite_ledger_is_idempotent_and_atomic(tmp_path: Path):
    check_idempotent_and_atomic(sqlite_ledger(tmp_path / "forecast_ledger.db"))


@pytest.mark.slow  # starts a PostgreSQL server
@pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR is not set")
def test_postgresql_ledger_is_idempotent_and_atomic(tmp_path: Path):
    with Postgres(tmp_path / "pg", name="ledger") as postgres:
        ledger = ForecastLedgerDataset(
            table_name="forecast_ledger",
            credentials={"con": postgres.uri},
            lock_timeout_seconds=5,
        )
        check_idempotent_and_atomic(ledger)
        assert postgres.query("SELECT count(*) FROM forecast_ledger") == [(6,)]
        race_first_saves(
            [
                ForecastLedgerDataset(
                    table_name=f"ledger_{k}",
                    credentials={"con": postgres.uri},
                    lock_timeout_seconds=30,
                )
                for k in range(10)
            ]
        )
        # a table held by another process: waited for lock_timeout_seconds, then named
        with sa.create_engine(postgres.uri).connect() as holder, holder.begin():
            holder.execute(sa.text("LOCK TABLE forecast_ledger IN ACCESS EXCLUSIVE MODE"))
            ledger = ForecastLedgerDataset(
                table_name="forecast_ledger",
                credentials={"con": postgres.uri},
                lock_timeout_seconds=0.5,
            )
            with pytest.raises(
                DatasetError, match=r"(?s)due to lock timeout.*nothing of this save"
            ):
                ledger.save(rows(origin="2025-03-09"))
        assert postgres.query("SELECT count(*) FROM forecast_ledger") == [(6,)]


def test_a_locked_sqlite_ledger_is_named_and_nothing_is_half_written(tmp_path: Path):
    path = tmp_path / "forecast_ledger.db"
    ledger = sqlite_ledger(path, timeout=0.5)
    ledger.save(rows())
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # e.g. another forecast run in its transaction
    try:
        with pytest.raises(DatasetError, match=rf"{path}.*database is locked.*nothing of this"):
            ledger.save(rows(origin="2025-03-02"))
    finally:
        holder.rollback()
        holder.close()
    assert len(ledger.load()) == 3


def test_an_unreachable_database_is_named_without_its_password():
    ledger = ForecastLedgerDataset(
        table_name="forecast_ledger",
        credentials={"con": "postgresql+psycopg2://alice:s3cret-pw@127.0.0.1:9/ledger"},
        lock_timeout_seconds=1,
    )
    with pytest.raises(DatasetError) as failure:
        ledger.save(rows())
    message = str(failure.value)
    assert "postgresql+psycopg2://alice:***@127.0.0.1:9/ledger" in message
    assert "s3cret-pw" not in message


def test_the_bounds_scales_are_stored_and_old_ledgers_stay_readable(tmp_path: Path):
    """A ledger made before sigma_log and quantile_<coverage> existed loads as it was; the
    first save with them adds the columns (NULL in the older rows)."""
    ledger = sqlite_ledger(tmp_path / "forecast_ledger.db")
    ledger.save(rows())  # an old forecast table: bounds only
    before = ledger.load()
    assert len(before) == 3 and not {"sigma_log", "quantile_80"} & set(before.columns)

    table = forecast_table()
    table["sigma_log"] = [0.020, 0.028, 0.035]
    table["quantile_80"], table["quantile_95"] = 1.28, 1.96
    new = ledger_rows(
        table,
        pd.Timestamp("2025-03-02", tz="UTC"),
        "BTCUSDT",
        "1d",
        "run-2",
        pd.Timestamp("2025-03-02T00:05", tz="UTC"),
        made_by="inference",
    )
    assert {"sigma_log", "quantile_80", "quantile_95"} <= set(new.columns)
    ledger.save(new)
    stored = ledger.load().sort_values(["origin", "step"]).reset_index(drop=True)
    assert len(stored) == 6
    assert stored["sigma_log"].iloc[:3].isna().all()
    assert stored["sigma_log"].iloc[3:].tolist() == [0.020, 0.028, 0.035]
    assert (stored["quantile_95"].iloc[3:] == 1.96).all()
    assert stored["quantile_80"].iloc[:3].isna().all()


def test_rows_without_their_key_are_refused(tmp_path: Path):
    ledger = sqlite_ledger(tmp_path / "forecast_ledger.db")
    with pytest.raises(DatasetError, match=r"lack the columns \['origin'\]"):
        ledger.save(rows().drop(columns="origin"))
    assert ledger.load().empty


def race_first_saves(ledgers: list[ForecastLedgerDataset]) -> None:
    """Two writers (threads, each with its own engine and connections) save at the same
    moment into every one of these new ledgers, as two first-ever forecast runs would."""
    origins = ("2025-03-01", "2025-03-02")
    start = threading.Barrier(len(origins))
    failures: list[BaseException] = []

    def write(origin: str) -> None:
        for ledger in ledgers:
            start.wait(timeout=60)
            try:
                copy.deepcopy(ledger).save(rows(origin=origin))
            except Exception as error:  # reported below, with its ledger
                failures.append(error)

    writers = [threading.Thread(target=write, args=(origin,)) for origin in origins]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert not failures, failures[:3]
    for ledger in ledgers:
        stored = ledger.load()
        assert len(stored) == 6 and stored["origin"].nunique() == 2


def test_two_runs_writing_a_new_sqlite_ledger_at_once_both_land(tmp_path: Path):
    race_first_saves([sqlite_ledger(tmp_path / f"ledger_{k}.db", timeout=30) for k in range(30)])
