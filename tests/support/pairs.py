"""Pair lists for tests: generated kline dumps per symbol and the conf that lists them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .fake_binance import make_klines

DUMP_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time"]


def write_kline_dump(path: Path, rows: int, interval: str = "1d", seed: int = 0) -> Path:
    """``rows`` closed generated klines (a random walk) as a kline CSV dump at ``path``."""
    klines = make_klines(rows, interval, with_open_candle=False, seed=seed)
    frame = pd.DataFrame([k[:7] for k in klines], columns=DUMP_COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def list_pairs(
    project: Path, env: str, symbols: list[str], intervals: list[str], **extra: str
) -> None:
    """Write ``pairs`` into conf/<env>/parameters_pairs.yml of the project copy."""
    lines = [
        "pairs:",
        f"  symbols: [{', '.join(symbols)}]",
        f"  intervals: [{', '.join(intervals)}]",
        *(f"  {key}: {value}" for key, value in extra.items()),
    ]
    (project / "conf" / env / "parameters_pairs.yml").write_text("\n".join(lines) + "\n")
