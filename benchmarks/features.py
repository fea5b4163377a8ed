"""Speed of silver -> gold, side by side with TA-Lib computing the same indicators.

Two inputs: the real BTCUSDT 4h candles (data/01_raw/snapshot/btcusdt_4h.csv.gz, gaps
forward-filled as silver has them) and a generated random walk of ``--rows`` 1-minute
candles. For each, three timings, medians over ``--runs`` runs:

- ``gold (all features)``: ``build_gold`` with conf/base/parameters_feature_engineering.yml
  (validation, every family incl. calendar, Fourier and rolling FFT, warm-up drop);
- ``ours, TA-Lib's indicators``: our functions for exactly the indicators TA-Lib computes
  below (RSI 14, MACD 12/26/9, BBANDS 20, ATR 14, STOCH 14/3/3, OBV, ROC 10,
  SMA+STDDEV 7/14/30, EMA 12/26/50);
- ``TA-Lib, same indicators``: the reference library (C), same calls.

Our indicators run numba kernels (compiled on first use, cached on disk): the first call,
which compiles them or loads them from the cache, is timed apart (``first_call_seconds``)
and is not in the medians (every case has one untimed warm-up call).

Run:  KEDRO_DISABLE_TELEMETRY=true python benchmarks/features.py [--rows 1000000] [--runs 5]
Writes benchmarks/results/features.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import talib
import yaml

from cryptopythia import indicators
from cryptopythia.features import build_gold
from cryptopythia.features.silver import SILVER_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the candle generators
from support.candles import generated_silver, silver_from_klines  # noqa: E402
from support.project import FOUR_HOUR_CANDLES  # noqa: E402

PARAMETERS = ROOT / "conf" / "base" / "parameters_feature_engineering.yml"
RESULT = ROOT / "benchmarks" / "results" / "features.json"
SMA_WINDOWS, EMA_SPANS = (7, 14, 30), (12, 26, 50)


def ours_indicators(silver: pd.DataFrame) -> list[np.ndarray]:
    """Our implementation of the indicators in ``talib_indicators``, same parameters."""
    high, low, close, volume = (silver[c].to_numpy() for c in ("high", "low", "close", "volume"))
    out = [
        indicators.rsi(close, 14),
        *indicators.macd(close, 12, 26, 9),
        *indicators.bollinger(close, 20, 2.0)[:3],
    ]
    out += [
        indicators.atr(high, low, close, 14),
        *indicators.stochastic(high, low, close, 14, 3, 3),
    ]
    out += [indicators.obv(close, volume), indicators.roc(close, 10)]
    for window in SMA_WINDOWS:
        out += indicators.rolling_mean_std(close, window)
    out += [indicators.ema(close, span) for span in EMA_SPANS]
    return out


def talib_indicators(silver: pd.DataFrame) -> list[np.ndarray]:
    """The reference: the same indicators computed by TA-Lib."""
    high, low, close, volume = (silver[c].to_numpy() for c in ("high", "low", "close", "volume"))
    out = [
        talib.RSI(close, 14),
        *talib.MACD(close, 12, 26, 9),
        *talib.BBANDS(close, 20, 2.0, 2.0, 0),
    ]
    out += [talib.ATR(high, low, close, 14), *talib.STOCH(high, low, close, 14, 3, 0, 3, 0)]
    out += [talib.OBV(close, volume), talib.ROC(close, 10)]
    for window in SMA_WINDOWS:
        out += [talib.SMA(close, window), talib.STDDEV(close, window, 1.0)]
    out += [talib.EMA(close, span) for span in EMA_SPANS]
    return out


def median_seconds(function: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    """Median wall time of ``runs`` calls (after one untimed warm-up call)."""
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def bench(
    name: str, silver: pd.DataFrame, interval: str, params: dict, runs: int
) -> dict[str, Any]:
    """Time gold, our indicators and TA-Lib's on one silver table."""
    gold = build_gold(silver, params, interval)
    cases = {
        "gold (all features)": lambda: build_gold(silver, params, interval),
        "ours, TA-Lib's indicators": lambda: ours_indicators(silver),
        "TA-Lib, same indicators": lambda: talib_indicators(silver),
    }
    result: dict[str, Any] = {
        "input": name,
        "interval": interval,
        "rows": len(silver),
        "gold_rows": len(gold),
        "gold_columns": gold.shape[1],
        "runs": runs,
        "cases": {},
    }
    for case, function in cases.items():
        median, times = median_seconds(function, runs)
        result["cases"][case] = {
            "median_seconds": median,
            "rows_per_second": len(silver) / median,
            "seconds": times,
        }
        print(
            f"{name:>22} | {case:<26} | {median * 1000:9.1f} ms | {len(silver) / median:14,.0f} rows/s",
            flush=True,
        )
    ours = result["cases"]["ours, TA-Lib's indicators"]["median_seconds"]
    reference = result["cases"]["TA-Lib, same indicators"]["median_seconds"]
    result["ours_over_talib_time"] = ours / reference
    return result


def table(results: list[dict[str, Any]]) -> str:
    """The results as a markdown table."""
    lines = [
        "| input | rows | what | median time | rows/s |",
        "|---|---:|---|---:|---:|",
    ]
    for result in results:
        for case, row in result["cases"].items():
            lines.append(
                f"| {result['input']} ({result['interval']}) | {result['rows']:,} | {case} | "
                f"{row['median_seconds'] * 1000:,.1f} ms | {row['rows_per_second']:,.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated series")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (median quoted)")
    args = parser.parse_args()

    params = yaml.safe_load(PARAMETERS.read_text())["feature_engineering"]
    start = time.perf_counter()
    ours_indicators(generated_silver(100))  # JIT compile, or load from numba's cache
    first_call = time.perf_counter() - start
    print(f"first call of our indicators (numba compile or cache load): {first_call:.2f} s")
    results = [
        bench(
            "real BTCUSDT 4h",
            silver_from_klines(pd.read_csv(FOUR_HOUR_CANDLES), "4h")[list(SILVER_COLUMNS)],
            "4h",
            params,
            args.runs,
        ),
        bench("generated random walk", generated_silver(args.rows, "1m"), "1m", params, args.runs),
    ]
    report = {
        "benchmark": "feature_engineering: silver -> gold vs TA-Lib",
        "command": f"python benchmarks/features.py --rows {args.rows} --runs {args.runs}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "talib": talib.__version__,
            "note": "shared machine: medians over runs, noisy",
        },
        "first_call_seconds": first_call,
        "results": results,
        "table": table(results),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(report["table"])
    print(f"\nwritten to {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
