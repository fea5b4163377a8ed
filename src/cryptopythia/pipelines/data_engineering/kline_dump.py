"""Reader for Binance's public kline dumps (monthly/daily CSV files or their zips)."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import pandas as pd

from .klines import KLINE_COLUMNS, REQUIRED_COLUMNS

logger = logging.getLogger(__name__)

# Open times above this are microseconds (Binance's spot dumps since 2025), below it
# milliseconds: 1e14 ms is the year 5138, 1e14 us is 1973.
_MICROSECOND_THRESHOLD = 10**14


def _read_kline_csv(text: str, source: str) -> pd.DataFrame:
    """One dump CSV (header or not, 7 to 12 columns) as Binance-ordered columns."""
    table = pd.read_csv(io.StringIO(text), header=None, dtype=str)
    if table.empty:
        raise ValueError(f"Kline dump {source} is empty.")
    if not table.iloc[0, 0].strip().lstrip("-").isdigit():
        table = table.iloc[1:]  # a header row
    n_columns = table.shape[1]
    if not len(REQUIRED_COLUMNS) <= n_columns <= len(KLINE_COLUMNS):
        raise ValueError(
            f"Kline dump {source} has {n_columns} columns; Binance klines have "
            f"{len(REQUIRED_COLUMNS)} to {len(KLINE_COLUMNS)}, starting with "
            f"{', '.join(REQUIRED_COLUMNS)}."
        )
    table.columns = list(KLINE_COLUMNS[:n_columns])
    table = table.apply(pd.to_numeric, errors="coerce")
    bad = table[list(REQUIRED_COLUMNS)].isna().any(axis=1)
    if bad.any():
        first = int(bad.to_numpy().argmax())
        raise ValueError(
            f"Kline dump {source}: {int(bad.sum())} row(s) with a missing or non-numeric "
            f"value in {', '.join(REQUIRED_COLUMNS)} (first at data row {first + 1})."
        )
    for column in ("open_time", "close_time"):
        times = table[column].astype("int64")
        table[column] = times.where(times < _MICROSECOND_THRESHOLD, times // 1000)
    return table


def _dump_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".zip"})
    if not files:
        raise FileNotFoundError(
            f"No .csv or .zip kline files in {path} (data_engineering.dump_path)."
        )
    return files


def read_kline_dump(dump_path: str | Path) -> pd.DataFrame:
    """Every kline in a dump file or folder, ms timestamps, in Binance's column order."""
    path = Path(dump_path)
    if not path.exists():
        raise FileNotFoundError(
            f"data_engineering.dump_path={str(dump_path)!r} does not exist. Point it at a "
            "Binance kline CSV/zip or a folder of them, e.g. --params "
            "data_engineering.dump_path=../shared/data/btcusdt_1d.csv"
        )
    tables = []
    for file in _dump_files(path):
        if file.suffix.lower() == ".zip":
            with zipfile.ZipFile(file) as archive:
                for member in sorted(n for n in archive.namelist() if n.endswith(".csv")):
                    text = archive.read(member).decode("utf-8")
                    tables.append(_read_kline_csv(text, f"{file.name}:{member}"))
        else:
            tables.append(_read_kline_csv(file.read_text(encoding="utf-8"), file.name))
    klines = pd.concat(tables, ignore_index=True)
    logger.info("Read %d klines from %d dump file(s) at %s.", len(klines), len(tables), path)
    return klines
