"""The hostile inputs of benchmarks/abuse.py, by kind: spoiled kline dumps, dump paths that
are no plain file, unwritable data folders, bad parameters, damaged MLflow stores and bad
request bodies for the served model.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HEADER = "open_time,open,high,low,close,volume,close_time\n"
PRICES = ["open", "high", "low", "close"]


def kline_lines(klines: list[list]) -> str:
    return HEADER + "".join(",".join(map(str, k[:7])) + "\n" for k in klines)


def spoiled(row: int, column: int, value: object) -> Callable[[list[list]], str]:
    def spoil(klines: list[list]) -> str:
        klines = [list(k) for k in klines]
        klines[row][column] = value
        return kline_lines(klines)

    return spoil


DUMPS: dict[str, Callable[[list[list]], str] | bytes] = {
    "high=inf": spoiled(350, 2, "inf"),
    "volume=-1": spoiled(350, 5, "-1"),
    "low<0": spoiled(350, 3, "-1.0"),
    "high<close": spoiled(350, 2, "1.0"),
    "off-grid candle (12:00)": lambda k: kline_lines(
        [*k[:350], [k[350][0] + 43_200_000, *k[350][1:]], *k[351:]]
    ),
    "open_time=1e20": spoiled(350, 0, "1e20"),
    "open_time=0": spoiled(350, 0, "0"),
    "non-numeric close": spoiled(350, 4, "abc"),
    "empty file": b"",
    "binary file": bytes(range(256)) * 4,
    "blank first cell": b",1,2,0.5,1.5,10,86399999\n",
    "header only": HEADER.encode(),
    "3 columns": b"1,2,3\n",
    # issue 22's classes
    "candle from 2090": lambda k: kline_lines([*k, [3786912000000, *k[-1][1:6], 3786998399999]]),
    "close_time not open_time + 1d": spoiled(350, 6, "123"),
    "conflicting duplicate candle": lambda k: kline_lines(
        [*k[:351], [k[350][0], k[350][1], k[350][2], k[350][3], k[350][2], *k[350][5:7]], *k[351:]]
    ),
    "unknown header name": lambda k: kline_lines(k).replace("volume", "vol", 1),
}


def gzip_of(path: Path, block: bytes, total: int) -> Path:
    """A gzip of ``block`` repeated to ``total`` bytes: a bomb (tiny file, huge inside)."""
    with gzip.open(path, "wb") as packed:
        for _ in range(total // len(block)):
            packed.write(block)
    return path


def in_folder(folder: Path, klines: list[list], hostile: Callable[[Path], None]) -> Path:
    """A dump folder: good klines and ``hostile(folder)``."""
    folder.mkdir()
    (folder / "btcusdt_1d.csv").write_text(kline_lines(klines))
    hostile(folder)
    return folder


def loop(folder: Path) -> None:
    (folder / "a.csv").symlink_to(folder / "b.csv")
    (folder / "b.csv").symlink_to(folder / "a.csv")


# Dump paths that are no plain kline file (issue 22): each builds the path in a folder.
# The runs may override parameters (a small dump_max_bytes).
DUMP_PATHS: dict[str, tuple[Callable[[Path, list[list]], Path], dict]] = {
    "symlink loop in the dump folder": (lambda f, k: in_folder(f, k, loop), {}),
    "symlink loop as dump_path": (lambda f, k: in_folder(f, k, loop) / "a.csv", {}),
    "folder named *.csv in the dump folder": (
        lambda f, k: in_folder(f, k, lambda d: (d / "old.csv").mkdir()),
        {},
    ),
    "named pipe in the dump folder": (
        lambda f, k: in_folder(f, k, lambda d: os.mkfifo(d / "btcusdt_1d_more.csv")),
        {},
    ),
    "named pipe as dump_path": (
        lambda f, k: in_folder(f, k, lambda d: os.mkfifo(d / "pipe.csv")) / "pipe.csv",
        {},
    ),
    "/dev/zero as dump_path": (lambda f, k: Path("/dev/zero"), {}),
    "gzip bomb: 1 GB of zero bytes": (
        lambda f, k: gzip_of(f.with_suffix(".csv.gz"), b"\0" * 1_048_576, 1 << 30),
        {},
    ),
    "gzip bomb: one row x 200 MB, dump_max_bytes=10 MB": (
        lambda f, k: gzip_of(
            f.with_suffix(".csv.gz"),
            kline_lines(k[:1]).split("\n", 1)[1].encode() * 10_000,
            200_000_000,
        ),
        {"data_engineering.dump_max_bytes": 10_000_000},
    ),
}


# A data folder that cannot be written (issue 22): a tmpfs mounted over the run's layer
# folder, holding its stored files: read-only, or with room for half a new copy only.
STORAGE: dict[str, tuple[str, bool]] = {
    "read-only data/01_raw (bronze, its lock)": ("data/01_raw", True),
    "full disk at data/02_intermediate (silver)": ("data/02_intermediate", False),
}

PARAMS: list[tuple[str, dict]] = [
    ("training", {"modelling.batch_size": 0}),
    ("training", {"modelling.epochs": 0}),
    ("training", {"modelling.learning_rate": -1}),
    ("training", {"modelling.split.test": "notadate"}),
    ("training", {"modelling.target": "price"}),
    ("training", {"modelling.n_timesteps": 1}),
    ("training", {"data_engineering.interval": "2d"}),
    ("training", {"data_engineering.symbol": "btc/usdt"}),
    ("training", {"data_engineering.start_date": "yesterday-ish"}),
    ("training", {"data_engineering.api_key": "sk-live-secret"}),
    ("inference", {"inference.target_date": "NaT"}),
    ("inference", {"inference.target_date": "31/31/2031"}),
    ("inference", {"inference.model_alias": "production"}),
    ("backtest", {"backtest.window": "rolling"}),
    ("backtest", {"backtest.n_origins": 0}),
    # issue 22 and 23's classes
    ("training", {"data_engineering.lock_timeout_seconds": "abc"}),
    ("training", {"data_engineering.passphrase": "hunter2-secret"}),
    ("replay", {"replay.start": "notadate", "replay.end": "2020-01-01"}),
    ("replay", {"replay.start": "1999-01-01", "replay.end": "1999-02-01"}),
    ("monitor", {"monitor.status.window": 1}),
    ("monitor", {}),  # nothing in the ledger yet
    # issue 22's, part two
    ("training", {"data_engineering.dump_max_bytes": "abc"}),
    ("training", {"modelling.n_timesteps": 100000}),
]


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


STORE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "of random bytes": lambda path: path.write_bytes(os.urandom(40_000)),
    "cut in half": _truncate,
}


def payloads(good: pd.DataFrame) -> dict[str, dict]:
    """Bad request bodies for the served model, from a good payload."""
    last = len(good) - 1

    def body(frame: pd.DataFrame, **params: object) -> dict:
        return {"dataframe_split": frame.to_dict(orient="split", index=False), "params": params}

    with_row = lambda **v: pd.concat([good.head(1).assign(**v), good])  # noqa: E731
    changed = lambda row, **v: good.assign(  # noqa: E731
        **{k: good[k].where(good.index != row, x) for k, x in v.items()}
    )
    return {
        "ancient candle (-9e15 ms)": body(with_row(open_time=-8999999942400000)),
        "1970 candle": body(with_row(open_time=0)),
        "1e20 open_time": body(with_row(open_time=1e20)),
        "long gap": body(good.drop(index=range(100, 200))),
        "steps=0": body(good, steps=0),
        "steps=-3": body(good, steps=-3),
        "steps=366": body(good, steps=366),
        "steps=1.5": body(good, steps=1.5),
        "target_date in the past": body(good, target_date="2001-01-01"),
        "target_date=garbage": body(good, target_date="someday"),
        "high<close": body(changed(last, high=1.0)),
        "negative volume": body(changed(last, volume=-5.0)),
        "infinite price": body(changed(last, close=float("inf"))),
        "off-grid open_time": body(changed(last, open_time=good["open_time"].iloc[-1] + 3600_000)),
        "too few candles": body(good.tail(20)),
        "missing column": body(good.drop(columns=["close"])),
        "text in prices": body(good.astype({"open": object}).assign(open="abc")),
        "empty": {"dataframe_split": {"columns": [], "data": []}},
        "not a table": {"inputs": "hello"},
        # issue 22, item 10
        "target_date in 2999": body(good, target_date="2999-01-01"),
        "steps and target_date": body(good, steps=3, target_date="2100-01-01"),
        "unknown param": body(good, stepz=3),
        "rows repeated 3 times": body(pd.concat([good.tail(300)] * 3)),
        "duplicated column": body(pd.concat([good, good[["volume"]]], axis=1)),
        "fractional open_time": body(changed(last, open_time=good["open_time"].iloc[-1] + 0.5)),
        "flat candles": body(good.assign(open=100.0, high=100.0, low=100.0, close=100.0)),
        "no rows": {"dataframe_split": {"columns": list(good.columns), "data": []}},
        "prices of 1e300": body(good.assign(**{c: good[c] * 1e300 for c in PRICES})),
        "40x the rows (24,000)": body(pd.concat([good] * 40)),
    }
