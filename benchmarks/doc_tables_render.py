"""The docs' benchmark tables, each rendered from benchmarks/results/*.json.

One function per table: it takes the results folder and returns markdown. The docs carry
these tables between marker comments, written and checked by benchmarks/doc_tables.py, so
no number in them is ever copied by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from doc_tables_format import load, markdown, ms, num, pct, sig
from doc_tables_format import p_value as p_value  # re-exported: doc_tables_skill.py imports it


def features(results: Path) -> str:
    """Gold and TA-Lib's indicators by our code and by TA-Lib (features.json)."""
    data = load(results, "features")
    rows = [
        [r["input"], num(r["rows"]), case, ms(c["median_seconds"])] + [sig(c["rows_per_second"])]
        for r in data["results"]
        for case, c in r["cases"].items()
    ]
    return markdown(["input", "rows", "what", "median", "rows/s"], rows, "lrlrr")


def features_ratio(results: Path) -> str:
    """Our time over TA-Lib's on TA-Lib's own indicators (features.json)."""
    data = load(results, "features")
    rows = [
        [r["input"], num(r["rows"]), f"{r['ours_over_talib_time']:.2f}x"] for r in data["results"]
    ]
    return markdown(["input", "rows", "our time / TA-Lib's"], rows, "lrr")


def train_pipeline(results: Path) -> str:
    """The whole training pipeline with default parameters (train.json)."""
    run = load(results, "train")["pipeline_default"]
    rows = [
        ["wall time", f"{run['wall_seconds']} s"],
        ["epochs run (best)", f"{run['training']['epochs_run']} ({run['training']['best_epoch']})"],
        ["median samples/s", num(run["training"]["median_samples_per_second"])],
        ["precision", run["training"]["precision"]],
        ["test RMSE ratio to naive", f"{run['test']['rmse_ratio_to_naive']:.4f}"],
    ]
    return markdown(["`kedro run --pipelines training --env offline`", "value"], rows, "lr")


def train_setup(results: Path) -> str:
    """What the throughput measurement trained on (train.json)."""
    t = load(results, "train")["throughput"]
    shape = " × ".join(str(n) for n in t["window_shape"])
    rows = [
        ["training windows", num(t["train_windows"])],
        ["window (candles × columns)", shape],
        ["runs × epochs per way", f"{t['runs']} × {t['epochs_measured']}"],
    ]
    return markdown(["throughput measurement", "value"], rows, "lr")


def train(results: Path) -> str:
    """Training throughput of the reference recipe and the pipeline's ways (train.json)."""
    ways = load(results, "train")["throughput"]["ways"]
    best_reference = next(iter(ways.values()))["samples_per_second_best"]
    rows = [
        [name, num(w["samples_per_second_median"]), num(w["samples_per_second_best"])]
        + [f"{w['speedup_vs_reference']:.2f}x"]
        + [f"{w['samples_per_second_best'] / best_reference:.2f}x"]
        for name, w in ways.items()
    ]
    header = ["training way", "samples/s, median", "best epoch", "median vs the reference"]
    return markdown([*header, "best vs best"], rows, "lrrrr")


def serve(results: Path) -> str:
    """Sequential HTTP requests to `mlflow models serve` (serve.json)."""
    data = load(results, "serve")
    rows = [
        [name, num(m["shrinkage_weights"][0], 0), num(m["latency_ms"]["p50"])]
        + [num(m["latency_ms"]["p95"]), num(m["latency_ms"]["p99"])]
        + [num(m["requests_per_second"], 1)]
        for name, m in data["sequential"].items()
    ]
    header = ["model", "step-1 weight", "p50 ms", "p95 ms", "p99 ms", "requests/s"]
    return markdown(header, rows, "lrrrrr")


def serve_inference(results: Path) -> str:
    """The `kedro run --pipelines inference` timing beside the server's (serve.json)."""
    data = load(results, "serve")
    rows = [
        ["whole run, median", f"{data['inference_run_seconds_median']:.1f} s"],
        [
            "importing TensorFlow, Keras, MLflow, Kedro",
            f"{data['import_startup_seconds_median']:.1f} s",
        ],
        ["beyond start-up", f"{data['inference_beyond_startup_seconds']:.1f} s"],
    ]
    return markdown(["`kedro run --pipelines inference`", "seconds"], rows, "lr")


def serve_concurrency(results: Path) -> str:
    """Concurrent clients against `mlflow models serve --workers N` (serve.json)."""
    cells = load(results, "serve")["concurrency"]
    rows = [
        [c["workers"], c["clients"], num(c["p50_ms"]), num(c["p99_ms"])]
        + [num(c["requests_per_second"], 1)]
        for c in cells
    ]
    return markdown(["workers", "clients", "p50 ms", "p99 ms", "requests/s"], rows, "rrrrr")


def abuse(results: Path) -> str:
    """Bad inputs by kind and what became of them (abuse.json)."""
    counts = load(results, "abuse")["counts"]
    keys = ["tried", "clear", "unclear", "accepted", "stored_bad_data", "unbounded"]
    rows = [[c["kind"], *(c[k] for k in keys)] for c in counts]
    header = ["inputs", "tried", "clear error (HTTP 4xx)", "unclear failure / 5xx", "accepted"]
    return markdown([*header, "stored bad data", "slower than 10 s"], rows, "lrrrrrr")


def ingest(results: Path) -> str:
    """Fetch, refresh and silver timings against the fake Binance (ingest.json)."""
    d = load(results, "ingest")
    fetch = (
        f"{d['full_fetch_requests']} kline requests + {d['full_fetch_time_requests']} server time"
    )
    refresh = f"{d['refresh_nothing_new_requests']} kline requests + {d['refresh_nothing_new_time_requests']} server time"
    rows = [
        [
            f"full fetch, {num(d['full_fetch_candles'])} candles",
            fetch,
            f"{d['full_fetch_seconds']:.2f} s",
        ],
        [
            "refresh bronze, nothing new",
            refresh,
            f"{d['refresh_nothing_new_seconds'] * 1e3:.0f} ms",
        ],
        [
            f"silver from the 4h dump ({num(d['silver_4h_rows'])} rows)",
            "–",
            f"{d['silver_4h_seconds'] * 1e3:.0f} ms",
        ],
    ]
    return markdown(["measure", "requests", f"median of {d['repeats']}"], rows, "llr")


def scale(results: Path) -> str:
    """Training every listed daily pair, sequential against Dask (scale.json)."""
    d = load(results, "scale")
    per_pair = d["dask_seconds"] / d["pairs"]
    rows = [
        [
            "SequentialRunner",
            d["pairs"],
            num(d["sequential_seconds"]),
            f"{d['sequential_seconds_per_pair']:.1f}",
            "1.00",
        ],
        [f"DaskRunner, LocalCluster {d['dask_workers']} workers × 1 thread", d["pairs"]]
        + [num(d["dask_seconds"]), f"{per_pair:.1f}", f"{d['speed_up']:.2f}"],
    ]
    return markdown(["runner", "pairs", "wall time (s)", "per pair (s)", "speed-up"], rows, "lrrrr")


def scale_startup(results: Path) -> str:
    """Seconds from `kedro run` to the first node per listed pair count, before and after
    the start-up fixes (scale_startup.json)."""
    d = load(results, "scale_startup")
    before, after = d.get("before", {}), d["after"]

    def cell(runs: dict[str, Any], count: str) -> str:
        run = (runs.get("pairs") or {}).get(count)
        if run is None:
            return "–"
        if run["seconds_median"] is None:
            return f"no node after {num(runs['timeout_seconds'])} s"
        return num(run["seconds_median"], 1)

    def load_range(runs: dict[str, Any], count: str) -> str:
        loads = (runs.get("pairs") or {}).get(count, {}).get("load_average_1min", [])
        if not loads:
            return ""
        low, high = f"{min(loads):.1f}", f"{max(loads):.1f}"
        return low if low == high else f"{low}–{high}"

    counts = sorted(after["pairs"], key=int)
    rows = [
        [c, cell(before, c), load_range(before, c), cell(after, c), load_range(after, c)]
        for c in counts
    ]
    header = [
        "pairs listed",
        f"before (s, {before.get('repeats', 1)} run)",
        "its load (1 min)",
        f"after (s, median of {after['repeats']})",
        "its load (1 min)",
    ]
    return markdown(header, rows, "rrrrr")


def scale_pairs(results: Path) -> str:
    """Each pair's test RMSE ratio to naive in the scale run (scale.json)."""
    pairs = sorted(load(results, "scale")["skill"], key=lambda p: p["rmse_ratio_to_naive"])
    rows = [
        [p["symbol"], f"{p['first_target'][:10]} → {p['last_target'][:10]}"]
        + [f"{p['rmse_ratio_to_naive']:.4f}", f"{p['mae_ratio_to_naive']:.4f}", p["epochs_run"]]
        for p in pairs
    ]
    header = ["pair", "test targets", "RMSE ratio to naive", "MAE ratio", "epochs"]
    return markdown(header, rows, "llrrr")


def monitor_alarms(results: Path) -> str:
    """False alarms and detection delays of the monitor's status (monitor_alarms*.json)."""
    rows = []
    for name in ("monitor_alarms", "monitor_alarms_alarm_p_0.002"):
        d = load(results, name)
        calm, drift = d["calm"], d["drift"]
        level = d["settings"]["alarm"]["coverage_p_value"]
        label = f"{level} (default)" if name == "monitor_alarms" else str(level)
        rows.append(
            [label, pct(calm["alarm_share_per_evaluation"])]
            + [pct(calm["runs_with_any_alarm"]), num(drift["delay_median"])]
            + [f"{pct(drift['detected_within_30'])} / {pct(drift['detected_within_60'])}"]
        )
    header = ["alarm `coverage_p_value`", "calm: alarms per evaluation"]
    header += ["calm: runs with any alarm", "variance doubled: median origins to alarm"]
    return markdown([*header, "within 30 / 60 origins"], rows, "rrrrr")


def monitor_replay(results: Path) -> str:
    """The replayed year's step-1 scores by month (monitor_replay.json)."""
    rows = [
        [m["month"], m["origins"], pct(m["coverage_80"]), pct(m["coverage_95"])]
        + [f"{m['interval_score_ratio_80']:.3f}", f"{m['interval_score_ratio_95']:.3f}"]
        + [m["status_at_month_end"]]
        for m in load(results, "monitor_replay")["by_month"]
    ]
    header = ["month", "origins", "80% coverage", "95% coverage", "interval score / EWMA (80%)"]
    return markdown([*header, "(95%)", "status"], rows, "lrrrrrl")


Renderer = Callable[[Path], str]


def dump_memory(results: Path) -> str:
    """Peak memory and time of reading dumps, before (the whole file parsed at once) and
    after streaming (dump_memory_before.json, dump_memory.json)."""
    before, after = (
        load(results, "dump_memory_before")["cases"],
        load(results, "dump_memory")["cases"],
    )
    rows = []
    for case, now in after.items():
        if now.get("phase") == "import":
            continue
        old = before.get(case, {})
        outcome = f"{now['seconds']:.1f} s" if now.get("seconds") is not None else "–"
        if now.get("error"):
            outcome += ", an error naming the file and the fix"
        rows.append(
            [
                case,
                f"{num(old['peak_rss_mb'])} MB" if old else "not run",
                f"{num(now['peak_rss_mb'])} MB",
                f"{old['seconds']:.0f} s" if old.get("seconds") else "–",
                outcome,
            ]
        )
    header = ["case", "peak RSS before", "after", "time before", "after"]
    return markdown(header, rows, "lrrrl")
