"""Reader for Binance's public kline dumps (monthly/daily CSV files, their zips, or gzip'd
CSVs such as the snapshot in data/01_raw/snapshot)."""

from __future__ import annotations

import errno
import gzip
import logging
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..candles import REQUIRED_COLUMNS
from .dump_csv import WHAT_A_DUMP_IS, KlineChunks, read_kline_csv

logger = logging.getLogger(__name__)

# Binance's dump file names: BTCUSDT-1d-2024-01.csv(.zip), BTCUSDT-4h-2024-01-31.zip (or
# such a CSV gzip'd: .csv.gz).
_BINANCE_DUMP_NAME = re.compile(
    r"(?P<symbol>[A-Z0-9]+)-(?P<interval>\d+[smhdwM])-\d{4}-\d{2}(?:-\d{2})?\.(?:csv(?:\.gz)?|zip)",
    re.IGNORECASE,
)

_DUMP_SUFFIXES = (".csv", ".csv.gz", ".zip")


# What a path that is no regular file is, for the messages (stat's file types).
_FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _not_a_file(path: Path) -> str | None:
    """What ``path`` is if it is no regular file (a link is followed), else None."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link loop"
        if path.is_symlink():
            return f"a broken symbolic link (to {os.readlink(path)})"
        raise
    return None if stat.S_ISREG(mode) else _FILE_TYPES.get(stat.S_IFMT(mode), "no regular file")


def _dump_files(path: Path) -> list[Path]:
    """The kline files of a dump file or folder; anything named like one that is no
    regular file (a folder, a named pipe, a device, a link loop) raises, naming it,
    and is never opened: a named pipe would block the read forever."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(_DUMP_SUFFIXES))
        if not files:
            raise FileNotFoundError(
                f"No .csv, .csv.gz or .zip kline files in {path} (data_engineering.dump_path)."
            )
        fix = (
            f"Remove or rename it in the dump folder {path}, or point "
            "data_engineering.dump_path at the kline files themselves."
        )
    else:
        files = [path]
        fix = f"Remove or fix it, or point data_engineering.dump_path elsewhere: {WHAT_A_DUMP_IS}"
    for file in files:
        kind = _not_a_file(file)
        if kind is not None:
            raise ValueError(f"{file} is {kind}, not a kline file. {fix}")
    return files


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


def _read_zip(
    file: Path, symbol: str | None, interval: str | None, max_bytes: int, since_ms: int | None
) -> list[tuple[str, pd.DataFrame, KlineChunks]]:
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
            with archive.open(member) as stream:
                source = f"{file.name}:{member}"
                tables.append((source, *read_kline_csv(stream, source, max_bytes, since_ms)))
    return tables


def _read_file(
    file: Path, symbol: str | None, interval: str | None, max_bytes: int, since_ms: int | None
) -> list[tuple[str, pd.DataFrame, KlineChunks]]:
    """The kline tables of one dump file, each with its name and the state of its read;
    a file that is no text CSV, gzip or zip raises an error naming it."""
    try:
        if file.suffix.lower() == ".zip":
            return _read_zip(file, symbol, interval, max_bytes, since_ms)
        opener = gzip.open if file.suffix.lower() == ".gz" else open
        with opener(file, "rb") as stream:
            return [(file.name, *read_kline_csv(stream, file.name, max_bytes, since_ms))]
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(
            f"Kline dump {file} is not a complete gzip file ({error}); name plain CSVs "
            "*.csv, and gzip'd ones *.csv.gz."
        ) from error
    except zipfile.BadZipFile as error:
        raise ValueError(
            f"Kline dump {file} is not a valid zip ({error}). {WHAT_A_DUMP_IS}"
        ) from error
    except UnicodeDecodeError as error:
        raise ValueError(
            f"Kline dump {file} is not UTF-8 text (byte {error.start}: {error.reason}); is it "
            f"a binary file? {WHAT_A_DUMP_IS}"
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
    dump_path: str | Path,
    symbol: str | None = None,
    interval: str | None = None,
    *,
    max_bytes: int,
    since_ms: int | None = None,
) -> pd.DataFrame:
    """Every kline in a dump file or folder (``.csv``, ``.csv.gz``, ``.zip``), ms timestamps,
    in Binance's column order (without its "ignore").

    Files named like Binance's (``<SYMBOL>-<interval>-YYYY-MM...``) must match ``symbol``
    and ``interval`` when given. Each file is streamed in chunks (``dump_csv``),
    each checked and cut to the candles kept (those opening at ``since_ms`` or later, when
    given); a file unpacking to more than ``max_bytes`` (``data_engineering.dump_max_bytes``)
    stops the read when it passes it.
    """
    path = Path(dump_path)
    if not path.exists():
        if path.is_symlink():  # a loop or a link to nothing: "does not exist" would mislead
            _dump_files(path)
        raise FileNotFoundError(
            f"data_engineering.dump_path={str(dump_path)!r} does not exist. Point it at a "
            "Binance kline CSV (plain or .csv.gz), zip, or a folder of them, e.g. --params "
            "data_engineering.dump_path=data/01_raw/snapshot/btcusdt_1d.csv.gz (the daily "
            "snapshot shipped with the project)."
        )
    sources, tables, reads = [], [], []
    for file in _dump_files(path):
        check_dump_name(file.name, symbol, interval)
        for source, table, read in _read_file(file, symbol, interval, max_bytes, since_ms):
            # where each row came from, for the duplicate messages: file and data row
            tables.append(table.assign(_file=np.int32(len(sources))))
            sources.append(source)
            reads.append(read)
    skipped = sum(read.skipped for read in reads)
    if skipped:
        start = pd.Timestamp(since_ms, unit="ms", tz="UTC")
        logger.info("Dump: skipping %d candle(s) opening before %s.", skipped, start)
    klines = _without_repeats(pd.concat(tables, ignore_index=True), sources, reads)
    logger.info("Read %d klines from %d dump file(s) at %s.", len(klines), len(tables), path)
    return klines.drop(columns=["_file", "_row"])


def _without_repeats(
    klines: pd.DataFrame, sources: list[str], reads: list[KlineChunks]
) -> pd.DataFrame:
    """The dump's klines with exact repeats dropped (a month as .csv and .csv.gz, a file
    concatenated twice; those within one chunk were dropped while reading, ``reads``),
    said in a log line; two rows of one open_time that differ raise, naming both files
    (``sources[_file]``) and rows."""
    exact = klines.duplicated(subset=list(REQUIRED_COLUMNS), keep="first").to_numpy()
    firsts = [(i, r.first_repeat) for i, r in enumerate(reads) if r.first_repeat is not None]
    if exact.any():
        first = klines[exact].iloc[0]
        firsts.append((int(first["_file"]), int(first["_row"])))
        klines = klines[~exact].reset_index(drop=True)
    if firsts:
        file, row = min(firsts)
        logger.warning(
            "Dump: dropped %d exact repeat(s) of a candle (first: %s row %d).",
            int(exact.sum()) + sum(read.repeats for read in reads),
            sources[file],
            row,
        )
    clash = klines["open_time"].duplicated(keep=False)
    if clash.any():
        first = klines[clash & (klines["open_time"] == klines.loc[clash, "open_time"].iloc[0])]
        where = " and ".join(f"{sources[f]} row {r}" for f, r in zip(first["_file"], first["_row"]))
        opened = pd.Timestamp(int(first["open_time"].iloc[0]), unit="ms", tz="UTC")
        raise ValueError(
            f"The kline dump holds {int(clash.sum())} rows sharing an open_time with different "
            f"values; the first, {opened}, at {where}. Nothing was stored. Keep one copy of "
            "each candle in data_engineering.dump_path (remove the older or partial file)."
        )
    return klines
