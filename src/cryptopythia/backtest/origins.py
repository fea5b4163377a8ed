"""Forecast origins of a walk-forward and the refits that serve them.

An origin is a row of the model table: the first candle forecast, the candles before it
being all that is known. Origins are every ``origin_step`` rows among the last
``n_origins`` (``origin_step`` 1: a dense walk-forward, an origin at every candle). The
network is refitted every ``refit_every`` rows, on rows before the refit's first origin
only, and serves every origin until the next refit (statsforecast's
``cross_validation(refit=k)``). Its parameters' values are checked by their schema
(``cryptopythia.parameter_schemas.Backtest``, typed with ``Window`` and ``Retrain`` below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# backtest.window: every refit trains from the first row, or on the last window_size rows
Window = Literal["expanding", "sliding"]
# backtest.retrain: every refit trains a new network, or fine-tunes the previous one
Retrain = Literal["full", "finetune"]


@dataclass(frozen=True)
class Refit:
    """One fit: trained on rows ``[train_start, origins[0])``, forecasting from ``origins``."""

    number: int
    train_start: int
    origins: tuple[int, ...]

    @property
    def train_end(self) -> int:
        return self.origins[0]


def make_refits(
    n_rows: int,
    n_origins: int,
    origin_step: int,
    refit_every: int,
    window: Window,
    window_size: int | None,
    min_train_rows: int,
) -> list[Refit]:
    """The refits of a walk-forward over the last ``n_origins`` rows of ``n_rows`` (the
    counts >= 1 and the window's kind as ``cryptopythia.parameter_schemas.Backtest`` checks them)."""
    if window == "sliding" and (window_size is None or window_size < min_train_rows):
        raise ValueError(
            f"backtest.window_size must be >= {min_train_rows} rows for a sliding window, "
            f"got {window_size}."
        )
    first = n_rows - n_origins
    if first < min_train_rows:
        raise ValueError(
            f"{n_rows} rows cannot hold {n_origins} origins with >= {min_train_rows} training "
            f"rows before the first one; lower backtest.n_origins (at most "
            f"{max(n_rows - min_train_rows, 0)} here) or use a longer history."
        )
    origins = range(first, n_rows, origin_step)
    groups: dict[int, list[int]] = {}
    for origin in origins:
        groups.setdefault((origin - first) // refit_every, []).append(origin)
    refits = []
    for number, members in enumerate(groups.values()):
        start = 0 if window == "expanding" else max(0, members[0] - int(window_size))
        refits.append(Refit(number=number, train_start=start, origins=tuple(members)))
    return refits
