"""The walk-forward and interval-setting tables, rendered from skill_*.json and intervals_*.json.

Split from doc_tables_render.py (the speed tables) to keep each module short; the same
helpers format both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from doc_tables_render import load, markdown, num, p_value

MODEL_LABELS = {
    "conv1d_lstm": "conv1d_lstm",
    "conv1d_lstm_unshrunk": "conv1d_lstm_unshrunk (before shrinkage)",
    "naive": "naive",
    "naive_ewma": "naive_ewma (RiskMetrics)",
    "naive_garch": "naive_garch",
    "naive_garch_t": "naive_garch_t",
    "naive_har_range": "naive_har_range",
    "drift": "drift",
    "AutoETS": "AutoETS",
    "seasonal_naive": "seasonal_naive",
    "moving_average_7": "moving_average_7",
}


def _rows(data: dict[str, Any], scope: str, model: str) -> list[dict[str, Any]]:
    """The rows of one model in one part of a skill JSON (`by_step` or `overall`)."""
    return [r for r in data[scope] if r["model"] == model]


def skill_runs(results: Path) -> str:
    """What each dense walk-forward covered and how long it took (skill_*.json)."""
    rows = []
    for interval, label in (("1d", "daily"), ("4h", "4-hour")):
        d = load(results, f"skill_{interval}")
        forecasts = _rows(d, "overall", "conv1d_lstm")[0]["n"]
        span = f"{num(d['origins'])}, {d['first_origin'][:16]} → {d['last_origin'][:16]}"
        rows.append(
            [label, span.replace(" 00:00", ""), d["refits"], num(forecasts)]
            + [f"{d['training_seconds']:.0f} s", f"{d['backtest_seconds']:,.0f} s"]
            + [d["precision"], "promoted" if d["gate"]["promoted"] else "refused"]
        )
    header = ["history", "origins", "refits", "forecasts per model", "training", "backtest"]
    return markdown([*header, "precision", "gate"], rows, "llrrrrll")


def _best_anchor(anchors: list[dict[str, Any]], score: str) -> str:
    """The lowest interval score among the random-walk anchors at one step, and whose."""
    best = min(anchors, key=lambda r: r[score])
    return f"{num(best[score])} ({best['model'].removeprefix('naive_')})"


def skill_steps(results: Path, interval: str) -> str:
    """The network per step beside the best random-walk anchor (the gate's bar) and its
    unshrunk self (skill_<interval>.json)."""
    d = load(results, f"skill_{interval}")
    anchors: dict[int, list[dict[str, Any]]] = {}
    for r in d["by_step"]:
        if r["model"].startswith("naive_"):
            anchors.setdefault(r["key"], []).append(r)
    raw = {r["key"]: r for r in _rows(d, "by_step", "conv1d_lstm_unshrunk")}
    rows = []
    for r in _rows(d, "by_step", "conv1d_lstm"):
        a, u = anchors[r["key"]], raw[r["key"]]
        rows.append(
            [r["key"], f"{r['rmse_ratio_to_naive']:.4f}", f"{r['shrinkage_weight']:.2f}"]
            + [f"{r['up_share']:.3f}", f"{r['coverage_80']:.3f}", f"{r['coverage_95']:.3f}"]
            + [num(r["interval_score_80"]), _best_anchor(a, "interval_score_80")]
            + [num(r["interval_score_95"]), _best_anchor(a, "interval_score_95")]
            + [f"{u['rmse_ratio_to_naive']:.4f}", p_value(u["dm_p_worse"])]
            + [f"{u['directional_accuracy']:.3f}"]
        )
    header = ["step", "RMSE ratio to naive", "weight", "up share", "80% coverage"]
    header += ["95% coverage", "80% interval score", "best anchor's", "95% interval score"]
    header += ["best anchor's", "before shrinkage: RMSE ratio", "its DM p (worse)"]
    return markdown([*header, "its direction"], rows, "r" * (len(header) + 1))


def skill_steps_1d(results: Path) -> str:
    """The daily walk-forward per step (skill_1d.json)."""
    return skill_steps(results, "1d")


def skill_steps_4h(results: Path) -> str:
    """The 4-hour walk-forward per step (skill_4h.json)."""
    return skill_steps(results, "4h")


def _overall_cells(row: dict[str, Any]) -> list[str]:
    """One model's overall cells: RMSE ratio, DM p (worse), coverages (blank for points)."""
    dm = "–" if row["model"].startswith("naive") else p_value(row["dm_p_worse"])
    cov = [f"{row[k]:.3f}" if row[k] == row[k] else "" for k in ("coverage_80", "coverage_95")]
    return [f"{row['rmse_ratio_to_naive']:.4f}", dm, *cov]


def skill_overall(results: Path) -> str:
    """Every model overall on both histories, same origins and steps (skill_*.json)."""
    daily, four_hour = load(results, "skill_1d"), load(results, "skill_4h")
    rows = []
    for model, label in MODEL_LABELS.items():
        cells: list[object] = [label]
        for d in (daily, four_hour):
            row = _rows(d, "overall", model)[0]
            cells += _overall_cells(row)
            cells += [num(row["interval_score_80"]), num(row["interval_score_95"])]
        rows.append(cells)
    half = ["RMSE ratio", "DM p (worse)", "80% cov.", "95% cov.", "80% IS", "95% IS"]
    header = ["model", *(f"daily {h}" for h in half), *(f"4h {h}" for h in half)]
    return markdown(header, rows, "l" + "r" * 12)


def _range(values: list[float]) -> str:
    """A min–max range to three decimals."""
    return f"{min(values):.3f}–{max(values):.3f}"


def intervals(results: Path) -> str:
    """Every interval setting on its selection period and on the walk-forward (intervals_*.json)."""
    daily, four_hour = load(results, "intervals_1d"), load(results, "intervals_4h")
    rows = []
    for name in daily["variants"]:
        cells: list[object] = [name]
        for d in (daily, four_hour):
            chosen = " (**chosen**)" if name == d["chosen"] else ""
            sel, wf = (
                d["selection"][name]["network"]["80"],
                d["walk_forward"][name]["network"]["80"],
            )
            cells += [num(sel["interval_score"]) + chosen, _range(sel["coverage_by_step"])]
            cells += [num(wf["interval_score"])]
        rows.append(cells)
    walk = "naive, EWMA random-walk intervals"
    cells = ["*EWMA random walk*"]
    for d in (daily, four_hour):
        sel, wf = d["selection"]["defaults"][walk]["80"], d["walk_forward"]["defaults"][walk]["80"]
        cells += [
            num(sel["interval_score"]),
            _range(sel["coverage_by_step"]),
            num(wf["interval_score"]),
        ]
    rows.append(cells)
    half = ["selection 80% IS", "its 80% cov. by step", "walk-forward 80% IS"]
    header = ["setting", *(f"daily {h}" for h in half), *(f"4h {h}" for h in half)]
    return markdown(header, rows, "lrlrrlr")


def _span(period: list[str]) -> str:
    """A first → last period to the minute, midnight left out."""
    return " → ".join(p[:16].replace(" 00:00", "") for p in period)


def interval_periods(results: Path) -> str:
    """The selection and walk-forward periods of the interval benchmark (intervals_*.json)."""
    rows = []
    for interval in ("1d", "4h"):
        d = load(results, f"intervals_{interval}")
        sel, wf = d["selection_period"], d["walk_forward_period"]
        rows.append([interval, num(d["origins"]), _span(sel), _span(wf), f"{d['seconds']:.0f} s"])
    header = ["interval", "origins each", "selection period", "walk-forward period", "time"]
    return markdown(header, rows, "lrllr")


def risk(results: Path) -> str:
    """Each volatility model's 80% interval-score ratio to the EWMA walk on the scored
    period: the 20 pairs' median and worst, BTC daily and 4h, and the models the selection
    period chose (risk.json)."""
    summary = load(results, "risk")["summary"]

    def ratio(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    rows = []
    for model, row in summary["per_model"].items():
        worst = row.get("pairs_worst_ratio_80")
        rows.append(
            [
                model,
                ratio(row.get("pairs_median_ratio_80")),
                f"{ratio(worst)} ({row['pairs_worst']})" if worst is not None else "",
                ratio(row.get("btcusdt_1d_ratio_80")),
                ratio(row.get("btcusdt_4h_ratio_80")),
            ]
        )
    btc = summary["btc"]
    rows.append(
        [
            "**selected on the selection period**",
            f"**{ratio(summary['selected_pairs_median_ratio_80'])}**",
            f"{ratio(summary['selected_pairs_worst_ratio_80'])} "
            f"({summary['selected_pairs_worst']})",
            f"**{ratio(btc['btcusdt_1d']['ratio_80'])}** ({btc['btcusdt_1d']['model']})",
            f"**{ratio(btc['btcusdt_4h']['ratio_80'])}** ({btc['btcusdt_4h']['model']})",
        ]
    )
    header = ["model", "20 pairs: median", "worst", "BTC 1d", "BTC 4h"]
    return markdown(header, rows, "lrrrr")


def risk_network(results: Path) -> str:
    """The network's volatility correction on BTC daily against the econometric model it
    corrects: 80% interval-score ratios to the EWMA walk on both periods, per step, the
    CRPS ratio and the 80% coverage range (risk_network.json)."""
    data = load(results, "risk_network")
    rows = []
    for model, row in data["models"].items():
        scored = row["scored"]
        coverage = scored["coverage_80_by_step"]
        rows.append(
            [
                model,
                f"{row['selection']['ratio_80']:.4f}",
                f"**{scored['ratio_80']:.4f}**",
                " ".join(f"{v:.3f}" for v in scored["ratio_80_by_step"]),
                f"{scored['crps_ratio']:.4f}",
                p_value(scored["dm_overall"]["p_value"]),
                f"{min(coverage):.3f}–{max(coverage):.3f}",
            ]
        )
    header = [
        "σ",
        "selection",
        "scored",
        "scored, steps 1–" + str(data["horizon"]),
        "CRPS",
        "DM p",
        "80% coverage",
    ]
    return markdown(header, rows, "lrrrrrr")
