"""The formatting shared by the docs' benchmark tables (benchmarks/doc_tables_render.py,
benchmarks/doc_tables_skill.py): reading a benchmark's JSON, numbers as text, markdown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Row = Sequence[object]


def load(results: Path, name: str) -> dict[str, Any]:
    """One benchmark's JSON (Python's json reads the NaN the benchmarks write)."""
    return json.loads((results / f"{name}.json").read_text())


def markdown(header: Row, rows: Sequence[Row], align: str) -> str:
    """A markdown table; `align` holds one letter per column, l(eft) or r(ight)."""
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    lines = ["| " + " | ".join(str(h) for h in header) + " |", rule]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators; blank for a missing one (NaN, None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.{digits}f}"


def pct(value: float) -> str:
    """A share as a percentage, one decimal."""
    return f"{100 * value:.1f}%"


def p_value(value: float) -> str:
    """A p-value to two decimals, or to its first significant digits when smaller."""
    if math.isnan(value):
        return ""
    return f"{value:.2f}" if value >= 0.01 or value < 1e-4 else f"{value:.1g}"


def sig(value: float, figures: int = 3) -> str:
    """A rate to `figures` significant figures, millions as 'M'."""
    if value >= 1e6:
        return f"{value / 1e6:.{figures - 2}f} M"
    return f"{float(f'{value:.{figures}g}'):,.0f}"


def ms(value: float) -> str:
    """Seconds as milliseconds to about three significant figures."""
    milli = value * 1e3
    return f"{milli:,.{0 if milli >= 100 else 1 if milli >= 10 else 2}f} ms"
