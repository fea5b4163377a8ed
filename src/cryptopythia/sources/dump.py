"""Reader for Binance's public kline dumps (monthly/daily CSV files, their zips, or gzip'd
CSVs such as the snapshot in data/01_raw/snapshot)."""

from __future__ import annotations

import gzip
import io
import logging
import re
import zipfile
from pathlib import Path

import pandas as pd

from ..candles import KLINE_COLUMNS, REQUIRED_COLUMNS, check_kline_times

logger = logging.getLogger(__name__)

# Open times above this are microseconds (Binance's spot dumps since 2025), below it
# milliseconds: 1e14 ms is the year 5138, 1e14 us is 1973.
_MICROSECOND_THRESHOLD = 10**14
# Binance's dump file names: BTCUSDT-1d-2024-01.csv(.zip), BTCUSDT-4h-2024-01-31.zip (or
# such a CSV gzip'd: .csv.gz).
_BINANCE_DUMP_NAME = re.compile(
    r"(?P<symbol>[A-Z0-9]+)-(?P<interval>\d+[smhdwM])-\d{4}-\d{2}(?:-\d{2})?\.(?:csv(?:\.gz)?|zip)",
    re.IGNORECASE,
)

_WHAT_A_DUMP_IS = (
    "data_engineering.dump_path must name Binance kline CSVs (plain, .csv.gz or .zip) "
    "or a folder of them, e.g. data/01_raw/snapshot/btcusdt_1d.csv.gz."
)


def _read_kline_csv(text: str, source: str) -> pd.DataFrame:
    """One dump CSV (header or not, 7 to 12 columns) as Binance-ordered columns."""
    try:
        table = pd.read_csv(io.StringIO(text), header=None, dtype=str)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    except pd.errors.ParserError as error:
        raise ValueError(
            f"Kline dump {source} is not a kline CSV ({error}). {_WHAT_A_DUMP_IS}"
        ) from error
    if table.empty:
        raise ValueError(f"Kline dump {source} is empty. {_WHAT_A_DUMP_IS}")
    first = table.iloc[0, 0]
    header = isinstance(first, str) and not first.strip().lstrip("-").isdigit()
    names = list(table.iloc[0]) if header else None
    table = table.iloc[1:] if header else table
    if table.empty:
        raise ValueError(f"Kline dump {source} holds a header and no candle. {_WHAT_A_DUMP_IS}")
    if names is not None:  # columns by name, in whatever order the header lists them
        table.columns = _columns_of_header(names, source)
        table = table[[c for c in KLINE_COLUMNS if c in table.columns]]
    else:  # Binance's own dumps have no header: its column order
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
        raw = table[column]
        times = raw.where(raw < _MICROSECOND_THRESHOLD, raw // 1000)
        check_kline_times(times, column, f"Kline dump {source}", shown=raw, first_row=1)
        table[column] = times.astype("int64")
    return table


# Header names a dump may use: the project's own, and the ones Binance's documentation
# gives its kline columns.
_HEADER_NAMES = {name: name for name in KLINE_COLUMNS} | {
    "quote_volume": "quote_asset_volume",
    "count": "number_of_trades",
    "taker_buy_volume": "taker_buy_base_volume",
}


def _columns_of_header(names: list, source: str) -> list[str]:
    """The kline column each header name stands for; unknown, repeated or missing names
    raise, listing what is accepted."""
    spelled = [str(name).strip().lower() for name in names]
    unknown = [name for name in spelled if name not in _HEADER_NAMES]
    columns = [_HEADER_NAMES.get(name, name) for name in spelled]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if unknown or repeated or missing:
        problems = [
            f"unknown {unknown}" if unknown else "",
            f"repeated {repeated}" if repeated else "",
            f"missing {missing}" if missing else "",
        ]
        raise ValueError(
            f"Kline dump {source}: its header has {', '.join(p for p in problems if p)} "
            f"column(s). Name the columns {', '.join(sorted(_HEADER_NAMES))} (in any order; "
            f"{', '.join(REQUIRED_COLUMNS)} are required), or drop the header to read them "
            "in Binance's order."
        )
    return columns


_DUMP_SUFFIXES = (".csv", ".csv.gz", ".zip")


def _dump_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.name.lower().endswith(_DUMP_SUFFIXES))
    if not files:
        raise FileNotFoundError(
            f"No .csv, .csv.gz or .zip kline files in {path} (data_engineering.dump_path)."
        )
    return files


def _read_gzip(file: Path) -> str:
    try:
        with gzip.open(file, "rt", encoding="utf-8") as text:
            return text.read()
    except (gzip.BadGzipFile, EOFError) as error:
        raise ValueError(
            f"Kline dump {file} is not a complete gzip file ({error}); name plain CSVs "
            "*.csv, and gzip'd ones *.csv.gz."
        ) from error


def check_dump_name(name: str, symbol: str | None, interval: str | None) -> None:
    """Raise if ``name`` is a Binance dump name for another symbol or interval."""
    match = _BINANCE_DUMP_NAME.fullmatch(Path(name).name)
    if match is None:
        return  # not Binance's naming (e.g. btcusdt_1d.csv): nothing to check
    found_symbol, found_interval = match["symbol"].upper(), match["interval"]
    if (symbol is not None and found_symbol != symbol) or (
        interval is not None and found_interval != interval
    ):
        raise ValueError(
            f"Kline dump {name} holds {found_symbol} {found_interval} candles, but the run "
            f"asks for data_engineering.symbol={symbol!r} and interval={interval!r}. Point "
            "data_engineering.dump_path at the matching files, or set symbol/interval to "
            f"{found_symbol!r}/{found_interval!r}."
        )


def _read_zip(file: Path, symbol: str | None, interval: str | None) -> list[pd.DataFrame]:
    with zipfile.ZipFile(file) as archive:
        members = sorted(n for n in archive.namelist() if n.lower().endswith(".csv"))
        if not members:
            raise ValueError(
                f"Kline dump {file} holds no .csv file (it has: "
                f"{', '.join(archive.namelist()[:5]) or 'nothing'}). Use Binance's kline "
                "zips (one BTCUSDT-1d-YYYY-MM.csv inside) or remove it from "
                "data_engineering.dump_path."
            )
        tables = []
        for member in members:
            check_dump_name(member, symbol, interval)
            text = archive.read(member).decode("utf-8")
            tables.append(_read_kline_csv(text, f"{file.name}:{member}"))
    return tables


def _read_file(file: Path, symbol: str | None, interval: str | None) -> list[pd.DataFrame]:
    """The kline tables of one dump file; a file that is no text CSV, gzip or zip raises
    an error naming it."""
    try:
        if file.suffix.lower() == ".zip":
            return _read_zip(file, symbol, interval)
        if file.suffix.lower() == ".gz":
            return [_read_kline_csv(_read_gzip(file), file.name)]
        return [_read_kline_csv(file.read_text(encoding="utf-8"), file.name)]
    except zipfile.BadZipFile as error:
        raise ValueError(
            f"Kline dump {file} is not a valid zip ({error}). {_WHAT_A_DUMP_IS}"
        ) from error
    except UnicodeDecodeError as error:
        raise ValueError(
            f"Kline dump {file} is not UTF-8 text (byte {error.start}: {error.reason}); is it "
            f"a binary file? {_WHAT_A_DUMP_IS}"
        ) from error


def check_dump_names_symbol(dump_path: str | Path, symbol: str) -> None:
    """Raise unless the dump's file name (or, for a folder, its own name or each file's)
    says it holds ``symbol``: a listed pair must never read another coin's candles."""
    path = Path(dump_path)
    named = [path] if path.is_file() or symbol.lower() in path.name.lower() else _dump_files(path)
    anonymous = [p.name for p in named if symbol.lower() not in p.name.lower()]
    if anonymous:
        raise ValueError(
            f"The kline dump {', '.join(anonymous[:3])} (data_engineering.dump_path) does not "
            f"say it holds {symbol}, and pair {symbol} is one of the listed pairs: it may be "
            "another coin's candles (the snapshot is BTCUSDT's). Give each pair its own file "
            "with pairs.dump_path, e.g. dumps/{symbol_lower}_{interval}.csv, or name the "
            f"file after its symbol ({symbol.lower()}_1d.csv, or Binance's {symbol}-1d-...)."
        )


def read_kline_dump(
    dump_path: str | Path, symbol: str | None = None, interval: str | None = None
) -> pd.DataFrame:
    """Every kline in a dump file or folder (``.csv``, ``.csv.gz``, ``.zip``), ms timestamps,
    in Binance's column order.

    Files named like Binance's (``<SYMBOL>-<interval>-YYYY-MM...``) must match ``symbol``
    and ``interval`` when given.
    """
    path = Path(dump_path)
    if not path.exists():
        raise FileNotFoundError(
            f"data_engineering.dump_path={str(dump_path)!r} does not exist. Point it at a "
            "Binance kline CSV (plain or .csv.gz), zip, or a folder of them, e.g. --params "
            "data_engineering.dump_path=data/01_raw/snapshot/btcusdt_1d.csv.gz (the daily "
            "snapshot shipped with the project)."
        )
    tables = []
    for file in _dump_files(path):
        check_dump_name(file.name, symbol, interval)
        for table in _read_file(file, symbol, interval):
            # where each row came from, for the duplicate messages: file and data row
            tables.append(table.assign(_source=file.name, _row=range(1, len(table) + 1)))
    klines = _without_repeats(pd.concat(tables, ignore_index=True))
    logger.info("Read %d klines from %d dump file(s) at %s.", len(klines), len(tables), path)
    return klines.drop(columns=["_source", "_row"])


def _without_repeats(klines: pd.DataFrame) -> pd.DataFrame:
    """The dump's klines with exact repeats dropped (a month as .csv and .csv.gz, a file
    concatenated twice), said in a log line; two rows of one open_time that differ raise,
    naming both files and rows."""
    required = list(REQUIRED_COLUMNS)
    exact = klines.duplicated(subset=required, keep="first")
    if exact.any():
        logger.warning(
            "Dump: dropped %d exact repeat(s) of a candle (first: %s row %d).",
            int(exact.sum()),
            klines.loc[exact, "_source"].iloc[0],
            klines.loc[exact, "_row"].iloc[0],
        )
        klines = klines[~exact].reset_index(drop=True)
    clash = klines["open_time"].duplicated(keep=False)
    if clash.any():
        first = klines[clash & (klines["open_time"] == klines.loc[clash, "open_time"].iloc[0])]
        where = " and ".join(f"{f} row {r}" for f, r in zip(first["_source"], first["_row"]))
        opened = pd.Timestamp(int(first["open_time"].iloc[0]), unit="ms", tz="UTC")
        raise ValueError(
            f"The kline dump holds {int(clash.sum())} rows sharing an open_time with different "
            f"values; the first, {opened}, at {where}. Nothing was stored. Keep one copy of "
            "each candle in data_engineering.dump_path (remove the older or partial file)."
        )
    return klines
