"""Rolling-origin folds: each trains on rows before its origin and forecasts after it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fold:
    """Rows ``[train_start, origin)`` train; rows ``[origin, origin + horizon)`` test."""

    number: int
    train_start: int
    origin: int
    horizon: int

    @property
    def test_end(self) -> int:
        return self.origin + self.horizon


def make_folds(  # noqa: PLR0913
    n_rows: int,
    n_folds: int,
    step: int,
    horizon: int,
    window: str = "expanding",
    window_size: int | None = None,
    min_train_rows: int = 1,
) -> list[Fold]:
    """``n_folds`` origins ``step`` rows apart, the last one leaving exactly ``horizon`` rows.

    ``expanding`` trains on every row before the origin; ``sliding`` on the last
    ``window_size`` rows before it.
    """
    for name, value in {"n_folds": n_folds, "step": step, "horizon": horizon}.items():
        if int(value) < 1:
            raise ValueError(f"backtest.{name} must be >= 1, got {value}.")
    if window not in ("expanding", "sliding"):
        raise ValueError(f"backtest.window must be 'expanding' or 'sliding', got {window!r}.")
    if window == "sliding" and (window_size is None or window_size < min_train_rows):
        raise ValueError(
            f"backtest.window_size must be >= {min_train_rows} rows for a sliding window, "
            f"got {window_size}."
        )
    last_origin = n_rows - horizon
    first_origin = last_origin - (n_folds - 1) * step
    if first_origin < min_train_rows:
        raise ValueError(
            f"{n_rows} rows cannot hold {n_folds} folds {step} rows apart with a "
            f"{horizon}-step horizon and >= {min_train_rows} training rows before the first "
            f"origin; lower backtest.n_folds or backtest.step (the first origin would be row "
            f"{first_origin})."
        )
    folds = []
    for number in range(n_folds):
        origin = first_origin + number * step
        start = 0 if window == "expanding" else max(0, origin - int(window_size))
        folds.append(Fold(number=number, train_start=start, origin=origin, horizon=horizon))
    return folds
