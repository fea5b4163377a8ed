"""The summary and markdown tables of benchmarks/risk.py: per model the median and worst
ratio over the 20 pairs, the selected model's, and BTC's against the issue's targets."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

COVERAGE_BAND = (0.78, 0.82)
BTC = ("btcusdt_1d", "btcusdt_4h")


def _scored(row: dict[str, Any], model: str) -> dict[str, Any]:
    return row["models"][model]["scored"]


def btc_check(row: dict[str, Any], model: str, targets: dict[str, float]) -> dict[str, Any]:
    """The BTC targets for one model on the scored period: met or missed, with the numbers."""
    scored = _scored(row, model)
    coverage = scored["coverage_80_by_step"]
    kupiec, christoffersen = scored["kupiec_p_by_step"][0], scored["christoffersen_p_by_step"][0]
    return {
        "model": model,
        "ratio_80": scored["ratio_80"],
        "ratio_80_by_step": scored["ratio_80_by_step"],
        "coverage_80_by_step": coverage,
        "kupiec_p_step1": kupiec,
        "christoffersen_p_step1": christoffersen,
        "overall_met": scored["ratio_80"] <= targets["btc_overall"],
        "every_step_met": max(scored["ratio_80_by_step"]) <= targets["btc_step"],
        "coverage_met": all(COVERAGE_BAND[0] <= c <= COVERAGE_BAND[1] for c in coverage),
        "var_tests_met": kupiec >= 0.05 and christoffersen >= 0.05,
    }


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Per model the pairs' median and worst scored ratio; the selected models'; BTC's."""
    rows = {row["series"]: row for row in results["series"]}
    pairs = [name for name in rows if name not in BTC]
    targets = results["targets"]
    per_model = {}
    for model in results["models"]:
        ratios = {p: _scored(rows[p], model)["ratio_80"] for p in pairs}
        worst = max(ratios, key=ratios.get)
        per_model[model] = {
            "pairs_median_ratio_80": float(np.median(list(ratios.values()))),
            "pairs_worst_ratio_80": ratios[worst],
            "pairs_worst": worst,
            **{f"{b}_ratio_80": _scored(rows[b], model)["ratio_80"] for b in BTC},
        }
    if "har_rv_4h" in rows["btcusdt_1d"]["models"]:
        per_model["har_rv_4h (BTC daily only)"] = {
            "btcusdt_1d_ratio_80": _scored(rows["btcusdt_1d"], "har_rv_4h")["ratio_80"]
        }
    selected = {p: rows[p]["selected"] for p in pairs}
    ratios = {p: _scored(rows[p], selected[p])["ratio_80"] for p in pairs}
    worst = max(ratios, key=ratios.get)
    median = float(np.median(list(ratios.values())))
    return {
        "per_model": per_model,
        "selected_pairs": {p: {"model": selected[p], "ratio_80": ratios[p]} for p in pairs},
        "selected_pairs_median_ratio_80": median,
        "selected_pairs_worst_ratio_80": ratios[worst],
        "selected_pairs_worst": worst,
        "pairs_median_met": median <= targets["pairs_median"],
        "pairs_worst_met": ratios[worst] <= targets["pairs_worst"],
        "btc": {b: btc_check(rows[b], rows[b]["selected"], targets) for b in BTC},
    }


def markdown(results: dict[str, Any]) -> str:
    """The summary as markdown tables."""
    summary, rows = results["summary"], {row["series"]: row for row in results["series"]}
    lines = [
        f"Risk benchmark: {results['split']}; {results['cpu']}, {results['cores']} cores, "
        f"float64; {results['seconds']} s. Origins scored: "
        + ", ".join(f"{r['series']} {r['scored_origins']}" for r in results["series"][:2])
        + f", pairs {min(r['scored_origins'] for r in results['series'][2:])}-"
        f"{max(r['scored_origins'] for r in results['series'][2:])}.",
        "",
        "80% interval score, ratio to the EWMA walk on the scored period (below 1: better):",
        "",
        "| model | pairs median | pairs worst | BTC 1d | BTC 4h | seconds (all series) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for model, row in summary["per_model"].items():
        base = model.split(" ")[0]
        seconds = sum(r["models"][base]["seconds"] for r in rows.values() if base in r["models"])
        cells = [
            f"{row['pairs_median_ratio_80']:.4f}" if "pairs_median_ratio_80" in row else "",
            f"{row['pairs_worst_ratio_80']:.4f} ({row['pairs_worst']})"
            if "pairs_worst" in row
            else "",
            f"{row['btcusdt_1d_ratio_80']:.4f}",
            f"{row['btcusdt_4h_ratio_80']:.4f}" if "btcusdt_4h_ratio_80" in row else "",
        ]
        lines.append(f"| {model} | {' | '.join(cells)} | {seconds:.0f} |")
    lines.append(
        f"| selected on the selection period | {summary['selected_pairs_median_ratio_80']:.4f} "
        f"| {summary['selected_pairs_worst_ratio_80']:.4f} ({summary['selected_pairs_worst']}) "
        f"| {summary['btc']['btcusdt_1d']['ratio_80']:.4f} "
        f"({summary['btc']['btcusdt_1d']['model']}) | {summary['btc']['btcusdt_4h']['ratio_80']:.4f} "
        f"({summary['btc']['btcusdt_4h']['model']}) | |"
    )
    lines += ["", "Targets (selected model, scored period):", ""]
    mark = {True: "met", False: "MISSED"}
    lines.append(
        f"- pairs median <= {results['targets']['pairs_median']}: "
        f"{mark[summary['pairs_median_met']]}; no pair above {results['targets']['pairs_worst']}: "
        f"{mark[summary['pairs_worst_met']]}"
    )
    for name, check in summary["btc"].items():
        steps = ", ".join(f"{v:.3f}" for v in check["ratio_80_by_step"])
        coverage = ", ".join(f"{v:.3f}" for v in check["coverage_80_by_step"])
        lines.append(
            f"- {name} ({check['model']}): ratio {check['ratio_80']:.4f} "
            f"{mark[check['overall_met']]}; by step [{steps}] {mark[check['every_step_met']]}; "
            f"80% coverage by step [{coverage}] {mark[check['coverage_met']]}; 5% VaR step 1 "
            f"Kupiec p {check['kupiec_p_step1']:.3f}, Christoffersen p "
            f"{check['christoffersen_p_step1']:.3f} {mark[check['var_tests_met']]}"
        )
    lines += [
        "",
        "Selected per pair: "
        + ", ".join(
            f"{p.split('usdt')[0]} {v['model']} {v['ratio_80']:.3f}"
            for p, v in summary["selected_pairs"].items()
        ),
    ]
    return "\n".join(lines)


def compact_json(results: dict[str, Any]) -> str:
    """Indented JSON with every list of numbers and every DM test on one line."""
    text = json.dumps(results, indent=2)
    text = re.sub(
        r"\[\s+([^\[\]{}]*?)\s+\]",
        lambda m: "[" + ", ".join(part.strip() for part in m.group(1).split(",")) + "]",
        text,
    )
    return re.sub(r"\{\s+(\"statistic\": [^,]+),\s+(\"p_value\": [^\s}]+)\s+\}", r"{\1, \2}", text)
