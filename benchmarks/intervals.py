"""Interval benchmark: the adaptive conformal intervals of a forecaster whose shrinkage
weights are 0 (it forecasts the last close, as the network did at every refit of the latest
dense walk-forwards), for several `modelling.intervals` settings, chosen out of sample, in
minutes instead of a walk-forward's half hour.

Each origin's interval is built by the library's own code path, ``model.forecaster.
interval_quantiles`` (the one behind inference, the served model and the backtest), on the
latest calibration_window + adaptation_origins + horizon + 1 forecasts of a zero-weight
``Forecaster``; the volatility model is refitted every `refit_every` candles on the inner
train part of the rows before. Beside it, the bar of the gate: naive persistence with
RiskMetrics EWMA intervals (``backtest.volatility``), on the same origins.

Three periods, so that no setting is chosen on the candles it is scored on:
1. selection: the `origins` candles before the dense walk-forward's. Every setting is
   scored; the one chosen has the lowest 80% interval score among those whose 80% coverage
   is within the gate's 0.78-0.82 at every step;
2. walk-forward: the dense walk-forward's origins (benchmarks/skill.py's): the defaults and
   the chosen setting, per step, against the EWMA random walk;
3. with ``--pairs`` (daily only): the defaults and the chosen setting on the last `origins`
   candles of each of the 20 other daily USDT pairs in ../shared/data/pairs_1d, which played
   no part in the choice.

    .venv/bin/python benchmarks/intervals.py --interval 1d --pairs
    .venv/bin/python benchmarks/intervals.py --interval 4h

Writes benchmarks/results/intervals_<interval>.json and prints markdown tables: the 80% and
95% Winkler interval scores (USD, lower is better) and coverage. With the defaults it
reproduces the network's interval numbers of benchmarks/skill.py (within 0.1%: the volatility
model is fitted on an approximate inner train part) when the network's weights were all 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the snapshot's paths, the CPU
from intervals_scoring import EWMA_WALK, scored, usd_table  # noqa: E402

from support.project import DAILY_CANDLES, FOUR_HOUR_CANDLES, cpu_model  # noqa: E402

PAIRS = ROOT.parent / "shared" / "data" / "pairs_1d"
# Per interval: candles, dense walk-forward origins, refit spacing, horizon (conf/intraday's).
SETTINGS = {"1d": (DAILY_CANDLES, 730, 30, 7), "4h": (FOUR_HOUR_CANDLES, 2190, 180, 6)}
# The settings compared, on top of conf/base/parameters_modelling.yml's modelling.intervals.
VARIANTS = {
    "defaults": {},
    "ewma volatility": {"volatility": "ewma"},
    "calibration_window 500": {"calibration_window": 500},
    "calibration_window 1000": {"calibration_window": 1000},
    "calibration_window 500, gamma 0.002": {"calibration_window": 500, "aci_gamma": 0.002},
    # the same 350 replayed forecasts per request as the defaults (min_candles unchanged)
    "calibration_window 300, adaptation 50": {"calibration_window": 300, "adaptation_origins": 50},
    "calibration_window 340, adaptation 10": {"calibration_window": 340, "adaptation_origins": 10},
    "calibration_window 340, adaptation 10, gamma 0.01": {
        "calibration_window": 340,
        "adaptation_origins": 10,
        "aci_gamma": 0.01,
    },
}
GATE_COVERAGE = (0.78, 0.82)


def choose(period: dict[str, dict[str, Any]]) -> str:
    """The setting with the lowest 80% interval score on a period among those whose 80%
    coverage is within the gate's band at every step."""
    low, high = GATE_COVERAGE
    calibrated = {
        name: result["network"]["80"]["interval_score"]
        for name, result in period.items()
        if all(low <= c <= high for c in result["network"]["80"]["coverage_by_step"])
    }
    if not calibrated:
        raise ValueError(f"No setting keeps its 80% coverage in {GATE_COVERAGE} at every step.")
    return min(calibrated, key=calibrated.get)


def pairs_check(
    base: dict[str, Any], names: list[str], n_origins: int, refit_every: int, horizon: int
) -> list[dict[str, Any]]:
    """Settings ``names`` on the last ``n_origins`` candles of each other daily pair (its
    later half when its history is short): 80% interval scores and coverage."""
    rows = []
    for path in sorted(PAIRS.glob("*_1d.csv")):
        candles = usd_table(pd.read_csv(path))
        origins = range(max(len(candles) - n_origins, len(candles) // 2), len(candles))
        row: dict[str, Any] = {"pair": path.stem, "origins": len(origins)}
        for name in names:
            result = scored(candles, origins, {**base, **VARIANTS[name]}, refit_every, horizon)
            row[name] = {model: result[model]["80"] for model in result}
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", choices=sorted(SETTINGS), default="4h")
    parser.add_argument("--pairs", action="store_true", help="also check on the other pairs (1d)")
    args = parser.parse_args()
    if args.pairs and args.interval != "1d":
        parser.error("--pairs checks the daily pairs of ../shared/data/pairs_1d: use --interval 1d")
    path, n_origins, refit_every, horizon = SETTINGS[args.interval]
    raw = pd.read_csv(path)
    candles = usd_table(raw)
    closes = candles["close_usd"].to_numpy()
    times = pd.to_datetime(raw["open_time"], unit="ms", utc=True)
    base = yaml.safe_load((ROOT / "conf/base/parameters_modelling.yml").read_text())
    base = base["modelling"]["intervals"]
    walk_forward = range(len(closes) - n_origins, len(closes))
    periods = {
        "selection": range(walk_forward.start - n_origins, walk_forward.start),
        "walk_forward": walk_forward,
    }
    started = time.perf_counter()
    results: dict[str, Any] = {
        "interval": args.interval,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "origins": n_origins,
        "refit_every": refit_every,
        "horizon": horizon,
        "variants": VARIANTS,
    }
    for period, origins in periods.items():
        results[f"{period}_period"] = [
            str(times.iloc[origins.start]),
            str(times.iloc[origins.stop - 1]),
        ]
        results[period] = {
            name: scored(candles, origins, {**base, **override}, refit_every, horizon)
            for name, override in VARIANTS.items()
        }
    # chosen: out of sample; in hindsight: on the candles it is scored on (for contrast)
    results["chosen"] = choose(results["selection"])
    results["best_in_hindsight"] = choose(results["walk_forward"])
    if args.pairs:
        names = list(dict.fromkeys(["defaults", results["chosen"], results["best_in_hindsight"]]))
        results["pairs"] = pairs_check(base, names, n_origins, refit_every, horizon)
    results["seconds"] = round(time.perf_counter() - started, 1)
    out = ROOT / "benchmarks" / "results" / f"intervals_{args.interval}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


def markdown(results: dict[str, Any]) -> str:
    """The results as markdown: every setting on both periods, the chosen one's steps on
    the walk-forward beside the EWMA walk's, and the pairs check."""
    chosen, hindsight = results["chosen"], results["best_in_hindsight"]
    lines = [
        f"{results['interval']}: selection {results['selection_period'][0][:10]} -> "
        f"{results['selection_period'][1][:10]}, walk-forward "
        f"{results['walk_forward_period'][0][:10]} -> {results['walk_forward_period'][1][:10]}, "
        f"{results['origins']} origins each, steps 1..{results['horizon']}, naive forecast; "
        f"{results['cpu']}, {results['cores']} cores, float64; {results['seconds']} s. "
        f"Chosen on the selection period: **{chosen}**; best in hindsight on the "
        f"walk-forward period: {hindsight}.",
        "",
        "| setting | selection: 80% score | 80% coverage by step | 95% score "
        "| walk-forward: 80% score | 80% coverage by step | 95% score |",
        "|---|---:|---|---:|---:|---|---:|",
    ]
    selection, walk_forward = results["selection"], results["walk_forward"]
    rows = {name: (selection[name]["network"], walk_forward[name]["network"]) for name in selection}
    rows[EWMA_WALK] = (selection["defaults"][EWMA_WALK], walk_forward["defaults"][EWMA_WALK])
    for name, pair in rows.items():
        cells = []
        for result in pair:
            r80, r95 = result["80"], result["95"]
            cells.append(
                f"{r80['interval_score']:,.0f} | {min(r80['coverage_by_step']):.3f}-"
                f"{max(r80['coverage_by_step']):.3f} | {r95['interval_score']:,.0f}"
            )
        mark = " (chosen)" if name == chosen else (" (hindsight)" if name == hindsight else "")
        lines.append(f"| {name}{mark} | {' | '.join(cells)} |")
    lines += ["", "Walk-forward period, 80% interval score by step (and coverage):", ""]
    header = " | ".join(str(s) for s in range(1, results["horizon"] + 1))
    lines += [f"| | overall | {header} |", "|---|---:|" + "---:|" * results["horizon"]]
    shown = {
        name: walk_forward[name]["network"]["80"] for name in dict.fromkeys([chosen, hindsight])
    }
    shown[EWMA_WALK] = walk_forward["defaults"][EWMA_WALK]["80"]
    for name, r80 in shown.items():
        cells = " | ".join(
            f"{s:,.0f} ({c:.3f})"
            for s, c in zip(r80["interval_score_by_step"], r80["coverage_by_step"], strict=True)
        )
        lines.append(f"| {name} | {r80['interval_score']:,.0f} | {cells} |")
    if "pairs" in results:
        lines += [
            "",
            f"Other daily pairs: 80% interval score of {hindsight} and of the defaults, as ratios "
            "(below 1: better), and 80% coverage:",
            "",
            "| pair | origins | hindsight / defaults | defaults / EWMA walk "
            "| hindsight / EWMA walk | 80% coverage: defaults, hindsight |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in results["pairs"]:
            d, h = row["defaults"]["network"], row[hindsight]["network"]
            e = row["defaults"][EWMA_WALK]["interval_score"]
            lines.append(
                f"| {row['pair']} | {row['origins']} | "
                f"{h['interval_score'] / d['interval_score']:.4f} | "
                f"{d['interval_score'] / e:.4f} | {h['interval_score'] / e:.4f} | "
                f"{d['coverage']:.3f}, {h['coverage']:.3f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
