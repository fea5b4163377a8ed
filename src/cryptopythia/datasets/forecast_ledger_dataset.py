"""The forecast ledger: every forecast the project made, in a SQL table (SQLite beside
mlflow.db by default, the team's PostgreSQL under ``--env team``).

Not kedro-datasets' ``pandas.SQLTableDataset``: it saves with ``DataFrame.to_sql``
(append or replace), so writing a forecast twice would store it twice and a replace would
drop the history. The ledger needs ``INSERT ... ON CONFLICT DO NOTHING`` on its key, which
SQLAlchemy offers for both SQLite and PostgreSQL, in one transaction per save.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy.dialects import postgresql, sqlite

logger = logging.getLogger(__name__)

# One row per forecast step; writing the same key again changes nothing.
LEDGER_KEY = (
    "model_name",
    "model_version",
    "model_alias",
    "symbol",
    "interval",
    "origin",
    "step",
)
_COLUMN_TYPES = {
    "model_name": sa.String(200),
    "model_version": sa.String(20),
    "model_alias": sa.String(100),
    "symbol": sa.String(40),
    "interval": sa.String(8),
    "origin": sa.DateTime(),  # UTC, stored without a zone (SQLite has none)
    "step": sa.Integer(),
    "target_time": sa.DateTime(),
    "forecast_close": sa.Float(),
    "scaler_version": sa.String(20),
    "run_id": sa.String(64),
    "made_by": sa.String(20),  # the pipeline: inference (a live forecast) or replay
    "recorded_at": sa.DateTime(),
}
_TIME_COLUMNS = ("origin", "target_time", "recorded_at")
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _is_optional(column: str) -> bool:
    """The nullable float columns a table gets when a save first brings them: interval
    bounds (lower_80, upper_95..., one pair per coverage) and what they are made of
    (sigma_log, quantile_0.05...; ledgers written before them hold NULL there)."""
    return column.startswith(("lower_", "upper_", "quantile_")) or column == "sigma_log"


class ForecastLedgerDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The ``forecast_ledger`` table: ``load`` reads every row, ``save`` inserts the rows
    whose key is new, all in one transaction (a failed save stores none of its rows).

    Example catalog entry::

        forecast_ledger:
          type: cryptopythia.datasets.ForecastLedgerDataset
          table_name: forecast_ledger
          credentials: {con: "sqlite:///forecast_ledger.db"}  # or a credentials.yml key
          lock_timeout_seconds: 30
    """

    def __init__(
        self,
        *,
        table_name: str,
        credentials: dict[str, Any],
        lock_timeout_seconds: float,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or not credentials.get("con"):
            raise DatasetError(
                f"The forecast ledger '{table_name}' needs credentials with a 'con' URL "
                "(e.g. sqlite:///forecast_ledger.db or postgresql://user:pw@host/db)."
            )
        self._table_name = table_name
        self._url = sa.make_url(credentials["con"])
        self._timeout = float(lock_timeout_seconds)
        self.metadata = metadata
        self._engine: sa.Engine | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for the DaskRunner's workers: the engine is made again there."""
        return {**self.__dict__, "_engine": None}

    @property
    def safe_url(self) -> str:
        """The database URL without its password, for messages."""
        return self._url.render_as_string(hide_password=True)

    def _describe(self) -> dict[str, Any]:
        return {"table_name": self._table_name, "url": self.safe_url}

    def _get_engine(self) -> sa.Engine:
        if self._engine is None:
            sqlite = self._url.get_backend_name() == "sqlite"
            connect_args: dict[str, Any] = (
                {"timeout": self._timeout}
                if sqlite
                else {"connect_timeout": max(1, int(self._timeout))}
            )
            self._engine = sa.create_engine(self._url, connect_args=connect_args)
            if sqlite:
                _begin_sqlite_transactions_in_sqlalchemy(self._engine)
        return self._engine

    def _fail(self, doing: str, error: Exception) -> DatasetError:
        reason = getattr(error, "orig", None) or error
        return DatasetError(
            f"Could not {doing} the forecast ledger '{self._table_name}' at {self.safe_url}: "
            f"{reason}. Check that the database is reachable and not held by another "
            "process (a save waits lock_timeout_seconds for it), then run again; nothing of this "
            "save was stored."
        )

    def load(self) -> pd.DataFrame:
        try:
            with self._get_engine().connect() as connection:
                if not sa.inspect(connection).has_table(self._table_name):
                    return pd.DataFrame(columns=list(_COLUMN_TYPES))
                frame = pd.read_sql_table(self._table_name, connection)
        except sa.exc.SQLAlchemyError as error:
            raise self._fail("read", error) from error
        for column in _TIME_COLUMNS:
            frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
        return frame

    def save(self, data: pd.DataFrame) -> None:
        missing = [c for c in (*LEDGER_KEY, "target_time", "forecast_close") if c not in data]
        if missing:
            raise DatasetError(f"Forecast ledger rows lack the columns {missing}.")
        backend = self._url.get_backend_name()
        if backend not in _INSERTS:
            raise DatasetError(
                f"The forecast ledger supports SQLite and PostgreSQL, not {backend} "
                f"({self.safe_url})."
            )
        rows = _sql_rows(data)
        try:
            # one transaction, that waits first for another writer's to commit (its new
            # table, columns and rows): SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock
            writer = self._get_engine().execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with writer.begin() as connection:
                self._wait_for_other_postgresql_writers(connection)
                table = self._table(connection, [c for c in data.columns if _is_optional(c)])
                statement = _INSERTS[backend](table).on_conflict_do_nothing(
                    index_elements=list(LEDGER_KEY)
                )
                inserted = connection.execute(statement, rows).rowcount if rows else 0
        except sa.exc.SQLAlchemyError as error:
            raise self._fail("write", error) from error
        logger.info(
            "Forecast ledger %s: %s new rows of %d (%s).",
            self._table_name,
            inserted if inserted >= 0 else "some",  # psycopg2's executemany may not count
            len(rows),
            self.safe_url,
        )

    def _wait_for_other_postgresql_writers(self, connection: sa.Connection) -> None:
        """One PostgreSQL writer of this table at a time (an advisory lock held to the
        commit, waited for at most lock_timeout_seconds), as BEGIN IMMEDIATE does on SQLite:
        two first-ever saves would otherwise both try to create the table."""
        if connection.dialect.name != "postgresql":
            return
        connection.execute(sa.text(f"SET LOCAL lock_timeout = {int(self._timeout * 1000)}"))
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"cryptopythia.forecast_ledger.{self._table_name}"},
        )

    def _table(self, connection: sa.Connection, optional: list[str]) -> sa.Table:
        """The ledger table, created on first use; a coverage or scale new to it gets its
        columns (``ALTER TABLE ... ADD COLUMN``, NULL in the older rows)."""
        inspector = sa.inspect(connection)
        if not inspector.has_table(self._table_name):
            columns = [
                sa.Column(
                    name,
                    kind,
                    primary_key=name in LEDGER_KEY,
                    nullable=name in ("run_id", "made_by"),
                )
                for name, kind in _COLUMN_TYPES.items()
            ] + [sa.Column(name, sa.Float()) for name in sorted(optional)]
            sa.Table(self._table_name, sa.MetaData(), *columns).create(connection)
            inspector = sa.inspect(connection)
        existing = {c["name"] for c in inspector.get_columns(self._table_name)}
        preparer = connection.dialect.identifier_preparer
        for column in sorted(set(optional) - existing):
            statement = (
                f"ALTER TABLE {preparer.quote(self._table_name)} "
                f"ADD COLUMN {preparer.quote(column)} FLOAT"
            )
            connection.execute(sa.text(statement))
        return sa.Table(self._table_name, sa.MetaData(), autoload_with=connection)

    def _exists(self) -> bool:
        try:
            with self._get_engine().connect() as connection:
                return sa.inspect(connection).has_table(self._table_name)
        except sa.exc.SQLAlchemyError:
            return False


def _begin_sqlite_transactions_in_sqlalchemy(engine: sa.Engine) -> None:
    """SQLAlchemy's recipe for pysqlite, which begins a transaction only before an INSERT:
    SQLAlchemy emits the BEGIN itself, so a save's table check, CREATE and INSERT are one
    transaction, and a writer can ask for the write lock at once (``sqlite_begin``)."""

    @sa.event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _sql_rows(data: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python values, times as naive UTC datetimes."""
    frame = data.copy()
    for column in _TIME_COLUMNS:
        if column in frame:
            times = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
            frame[column] = times.astype(object).where(times.notna(), None)
    return [
        {
            key: (None if isinstance(value, float) and value != value else value)
            for key, value in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]
