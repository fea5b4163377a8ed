"""One kline dump CSV parsed as a stream: its bytes counted as they are unpacked (capped),
its rows read in chunks, each checked and cut to the candles kept, its columns taken from
a header by name or in Binance's order."""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..candles import KLINE_COLUMNS, REQUIRED_COLUMNS, check_kline_times

# Open times above this are microseconds (Binance's spot dumps since 2025), below it
# milliseconds: 1e14 ms is the year 5138, 1e14 us is 1973.
_MICROSECOND_THRESHOLD = 10**14
WHAT_A_DUMP_IS = (
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
        self.binary = False  # a NUL byte seen: no text file
        self._line_bytes = 0  # since the last line end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._max_bytes + 1 - self.bytes_read))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        self.binary = self.binary or b"\x00" in data
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
                f"bytes (a kline row is ~150 bytes): it is no kline CSV. {WHAT_A_DUMP_IS}"
            )
        return size


def _numeric(column: pd.Series) -> pd.Series:
    """A parsed CSV column as numbers: text that is no number (and true/false) is NaN."""
    if column.dtype.kind in "iuf":
        return column
    if column.dtype.kind == "b":
        return pd.Series(np.nan, index=column.index)
    return pd.to_numeric(column, errors="coerce")


class KlineChunks:
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


def read_kline_csv(
    stream: BinaryIO, source: str, max_bytes: int, since_ms: int | None
) -> tuple[pd.DataFrame, KlineChunks]:
    """One dump CSV (header or not, 7 to 12 columns), streamed: its candles in Binance's
    column order with their data row numbers (``_row``), and the state of the read (the
    candles it skipped as older than ``since_ms``, the exact repeats it dropped)."""
    stream_reader = _CappedStream(stream, source, max_bytes)
    capped = io.BufferedReader(stream_reader, 1 << 20)
    state, tables = KlineChunks(source, since_ms), []
    try:
        chunks = pd.read_csv(capped, header=None, chunksize=_CHUNK_ROWS, encoding="utf-8")
        for chunk in chunks:
            tables.append(state.candles(chunk))
    except pd.errors.EmptyDataError:
        pass
    except pd.errors.ParserError as error:
        if stream_reader.binary:
            raise ValueError(
                f"Kline dump {source} is not UTF-8 text: it holds NUL bytes, a binary file. "
                f"{WHAT_A_DUMP_IS}"
            ) from error
        raise ValueError(
            f"Kline dump {source} is not a kline CSV ({error}). {WHAT_A_DUMP_IS}"
        ) from error
    if state.columns is None:
        raise ValueError(f"Kline dump {source} is empty. {WHAT_A_DUMP_IS}")
    if state.rows == 0:
        raise ValueError(f"Kline dump {source} holds a header and no candle. {WHAT_A_DUMP_IS}")
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
