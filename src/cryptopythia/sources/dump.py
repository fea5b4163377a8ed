"""Reader for Binance's public kline dumps (monthly/daily CSV files, their zips, or gzip'd
CSVs such as the snapshot in data/01_raw/snapshot)."""

from __future__ import annotations

import errno
import gzip
import io
import logging
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
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


# Rows parsed at a time: each chunk is checked and cut to the candles kept, so memory
# follows the candles kept, not the dump's size.
_CHUNK_ROWS = 100_000
# A kline row is ~150 bytes: a "line" longer than this is no kline CSV (e.g. a gzip of
# zero bytes), refused before pandas buffers it whole.
_MAX_LINE_BYTES = 65_536


class _CappedStream(io.RawIOBase):
    """The bytes of ``stream`` (a file, a gzip or a zip member, opened binary), counted as
    they are unpacked: past ``max_bytes``, or a line longer than ``_MAX_LINE_BYTES``, the
    read raises a ValueError naming ``source``, without unpacking the rest."""

    def __init__(self, stream: BinaryIO, source: str, max_bytes: int) -> None:
        super().__init__()
        self._stream, self._source, self._max_bytes = stream, source, max_bytes
        self.bytes_read = 0
        self._line_bytes = 0  # since the last line end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._max_bytes + 1 - self.bytes_read))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        if self.bytes_read > self._max_bytes:
            raise ValueError(
                f"Kline dump {self._source} unpacks to more than "
                f"data_engineering.dump_max_bytes={self._max_bytes} bytes: stopped after "
                f"{self.bytes_read:,} bytes. Is it a gzip/zip bomb or the wrong file? If it is "
                "a real dump, raise the cap, e.g. --params "
                f"data_engineering.dump_max_bytes={2 * self._max_bytes}, or split it into "
                "monthly files."
            )
        end = data.rfind(b"\n")
        self._line_bytes = size - end - 1 if end >= 0 else self._line_bytes + size
        if self._line_bytes > _MAX_LINE_BYTES:
            raise ValueError(
                f"Kline dump {self._source}: no line end in its first {self.bytes_read:,} "
                f"bytes (a kline row is ~150 bytes): it is no kline CSV. {_WHAT_A_DUMP_IS}"
            )
        return size


def _numeric(column: pd.Series) -> pd.Series:
    """A parsed CSV column as numbers: text that is no number (and true/false) is NaN."""
    if column.dtype.kind in "iuf":
        return column
    if column.dtype.kind == "b":
        return pd.Series(np.nan, index=column.index)
    return pd.to_numeric(column, errors="coerce")


class _KlineChunks:
    """The state of one dump CSV read chunk by chunk: its columns (from a header or
    Binance's order) and the data rows seen so far, for row numbers in messages."""

    def __init__(self, source: str, since_ms: int | None) -> None:
        self.source, self.since_ms = source, since_ms
        self.columns: list[str] | None = None
        self.rows = 0  # data rows before this chunk
        self.skipped = 0  # candles before since_ms
        self.repeats = 0  # exact repeats within a chunk, dropped
        self.first_repeat: int | None = None  # the data row of the first

    def first(self, table: pd.DataFrame) -> pd.DataFrame:
        """The first chunk: its header (if any) read and dropped, the columns set."""
        first = table.iloc[0, 0]
        header = isinstance(first, str) and not first.strip().lstrip("-").isdigit()
        if header:  # columns by name, in whatever order the header lists them
            self.columns = _columns_of_header(list(table.iloc[0]), self.source)
            table = table.iloc[1:]
        else:  # Binance's own dumps have no header: its column order
            n_columns = table.shape[1]
            if not len(REQUIRED_COLUMNS) <= n_columns <= len(KLINE_COLUMNS):
                raise ValueError(
                    f"Kline dump {self.source} has {n_columns} columns; Binance klines have "
                    f"{len(REQUIRED_COLUMNS)} to {len(KLINE_COLUMNS)}, starting with "
                    f"{', '.join(REQUIRED_COLUMNS)}."
                )
            self.columns = list(KLINE_COLUMNS[:n_columns])
        return table

    def candles(self, table: pd.DataFrame) -> pd.DataFrame:
        """One chunk's rows checked and typed (ms times), bronze's columns in Binance's
        order, with their data row numbers (``_row``); those before ``since_ms`` dropped."""
        if self.columns is None:
            table = self.first(table)
        table.columns = self.columns
        kept = [c for c in KLINE_COLUMNS if c in table.columns and c != "ignore"]
        table = pd.DataFrame({c: _numeric(table[c]) for c in kept})
        bad = table[list(REQUIRED_COLUMNS)].isna().any(axis=1).to_numpy()
        if bad.any():
            raise ValueError(
                f"Kline dump {self.source}: {int(bad.sum())} row(s) with a missing or "
                f"non-numeric value in {', '.join(REQUIRED_COLUMNS)} (first at data row "
                f"{self.rows + int(bad.argmax()) + 1})."
            )
        for column in ("open_time", "close_time"):
            raw = table[column]
            times = raw.where(raw < _MICROSECOND_THRESHOLD, raw // 1000)
            where = f"Kline dump {self.source}"
            check_kline_times(times, column, where, shown=raw, first_row=self.rows + 1)
            table[column] = times.astype("int64")
        table["_row"] = np.arange(self.rows + 1, self.rows + len(table) + 1, dtype="int64")
        self.rows += len(table)
        if self.since_ms is not None:
            old = table["open_time"].to_numpy() < self.since_ms
            if old.any():
                self.skipped += int(old.sum())
                table = table[~old]
        # exact repeats within the chunk go now (a bomb of one row stays one row)
        repeats = table.duplicated(subset=list(REQUIRED_COLUMNS)).to_numpy()
        if not repeats.any():
            return table
        if self.first_repeat is None:
            self.first_repeat = int(table["_row"].to_numpy()[repeats][0])
        self.repeats += int(repeats.sum())
        return table[~repeats]


def _read_kline_csv(
    stream: BinaryIO, source: str, max_bytes: int, since_ms: int | None
) -> tuple[pd.DataFrame, _KlineChunks]:
    """One dump CSV (header or not, 7 to 12 columns), streamed: its candles in Binance's
    column order with their data row numbers (``_row``), and the state of the read (the
    candles it skipped as older than ``since_ms``, the exact repeats it dropped)."""
    capped = io.BufferedReader(_CappedStream(stream, source, max_bytes), 1 << 20)
    state, tables = _KlineChunks(source, since_ms), []
    try:
        chunks = pd.read_csv(capped, header=None, chunksize=_CHUNK_ROWS, encoding="utf-8")
        for chunk in chunks:
            tables.append(state.candles(chunk))
    except pd.errors.EmptyDataError:
        pass
    except pd.errors.ParserError as error:
        raise ValueError(
            f"Kline dump {source} is not a kline CSV ({error}). {_WHAT_A_DUMP_IS}"
        ) from error
    if state.columns is None:
        raise ValueError(f"Kline dump {source} is empty. {_WHAT_A_DUMP_IS}")
    if state.rows == 0:
        raise ValueError(f"Kline dump {source} holds a header and no candle. {_WHAT_A_DUMP_IS}")
    return pd.concat(tables, ignore_index=True), state


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
        fix = f"Remove or fix it, or point data_engineering.dump_path elsewhere: {_WHAT_A_DUMP_IS}"
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
) -> list[tuple[str, pd.DataFrame, _KlineChunks]]:
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
                tables.append((source, *_read_kline_csv(stream, source, max_bytes, since_ms)))
    return tables


def _read_file(
    file: Path, symbol: str | None, interval: str | None, max_bytes: int, since_ms: int | None
) -> list[tuple[str, pd.DataFrame, _KlineChunks]]:
    """The kline tables of one dump file, each with its name and the state of its read;
    a file that is no text CSV, gzip or zip raises an error naming it."""
    try:
        if file.suffix.lower() == ".zip":
            return _read_zip(file, symbol, interval, max_bytes, since_ms)
        opener = gzip.open if file.suffix.lower() == ".gz" else open
        with opener(file, "rb") as stream:
            return [(file.name, *_read_kline_csv(stream, file.name, max_bytes, since_ms))]
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(
            f"Kline dump {file} is not a complete gzip file ({error}); name plain CSVs "
            "*.csv, and gzip'd ones *.csv.gz."
        ) from error
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
    and ``interval`` when given. Each file is streamed in chunks of ``_CHUNK_ROWS`` rows,
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
    klines: pd.DataFrame, sources: list[str], reads: list[_KlineChunks]
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
