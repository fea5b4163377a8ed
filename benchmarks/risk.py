"""Risk benchmark, econometric part (issue 24): naive persistence with each volatility
model's sigma under the library's normalised conformal + ACI calibration, on a dense walk.

Per series (BTC daily and 4h from ../shared/data, the 20 other daily USDT pairs of
../shared/data/pairs_1d), of N candles and horizon h (the backtest's: 7 daily, 6 on 4h),
an origin at every candle (its first forecast row; the candles before it are known):
1. selection period: origins [0.4 N, 0.6 N): the model with the lowest mean 80% interval
   score (steps pooled) is chosen there, per series;
2. scored period: origins [0.6 N, N - h] (every step's close known): every model and the
   chosen one are scored; nothing is chosen or tuned on these origins.
Before the selection period, the replay the conformal layer needs (calibration_window +
adaptation_origins + h + 1 origins): each origin's quantiles are those
``model.intervals.adaptive_quantile`` gives a request replaying them
(``adaptive_quantiles``, the same replay vectorised over the walk). The volatility models
are fitted on every candle before the refit (expanding window), refitted every
``volatility_refit_every`` origins (conf: 30 daily, 180 on 4h); for BTC daily, beside
them, the anchor HAR on the daily realised variance of the same days' 4h candles.

    nice -n 10 .venv/bin/python benchmarks/risk.py

Writes benchmarks/results/risk.json and prints markdown tables: per model the median and
worst 80% interval-score ratio to the EWMA walk over the 20 pairs, BTC's, and the
selected model's, against the issue's targets.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the CPU's name
from risk_report import compact_json, markdown, summarise  # noqa: E402
from risk_scores import COVERAGES, against_ewma, headline, period_scores, rounded  # noqa: E402

from cryptopythia.model.intervals import adaptive_quantiles  # noqa: E402
from cryptopythia.model.volatility import candles_of, walk_paths  # noqa: E402
from cryptopythia.model.volatility.har import fit_log_variance_har, variance_har_paths  # noqa: E402

from support.project import cpu_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
MODELS = ("ewma", "garch", "garch_t", "gjr_t", "har_range")
RV_ANCHOR = "har_rv_4h"  # BTC daily only: not a library model, never selected
SELECTION, SCORED = (0.4, 0.6), 0.6  # fractions of N where the periods start
TARGETS = {"pairs_median": 0.98, "pairs_worst": 1.01, "btc_overall": 0.99, "btc_step": 1.0}


def settings_of(interval: str) -> tuple[dict[str, Any], int]:
    """modelling.intervals and the backtest's horizon of conf/base, with conf/intraday's
    overrides for 4h candles."""

    def load(env: str, name: str) -> dict[str, Any]:
        path = ROOT / "conf" / env / f"parameters_{name}.yml"
        return yaml.safe_load(path.read_text()) if path.exists() else {}

    intervals = load("base", "modelling")["modelling"]["intervals"]
    horizon = load("base", "backtest")["backtest"]["horizon"]
    if interval == "4h":
        intervals = {**intervals, **load("intraday", "modelling")["modelling"]["intervals"]}
        horizon = load("intraday", "backtest")["backtest"]["horizon"]
    return intervals, int(horizon)


def usd_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The candles' prices as the model table's ``*_usd`` columns."""
    return raw[["open", "high", "low", "close"]].astype("float64").add_suffix("_usd")


def daily_realised_variance(daily: pd.DataFrame, four_hour: pd.DataFrame) -> np.ndarray:
    """Per daily candle, the sum of the squared 4h close-to-close log returns of its day
    (NaN for a day without 4h candles): known at the daily close."""
    returns = np.log(four_hour["close"]).diff() ** 2
    day = pd.to_datetime(four_hour["open_time"], unit="ms", utc=True).dt.floor("D")
    by_day = returns.groupby(day).sum(min_count=1)
    days = pd.to_datetime(daily["open_time"], unit="ms", utc=True)
    return by_day.reindex(days).to_numpy(dtype="float64")


def walk_sigmas(
    table: pd.DataFrame, settings: dict[str, Any], name: str, origins: np.ndarray, horizon: int
) -> np.ndarray:
    """(origins, horizon) sigma of one model, refitted as the backtest's anchors: every
    ``volatility_refit_every`` origins on all candles before."""
    every, candles = int(settings["volatility_refit_every"]), candles_of(table)
    blocks = [origins[i : i + every] for i in range(0, len(origins), every)]
    model = {**settings, "volatility": name}
    return np.vstack([walk_paths(candles, model, list(b), horizon, 0) for b in blocks])


def rv_sigmas(
    table: pd.DataFrame, rv: np.ndarray, settings: dict[str, Any], origins: np.ndarray, horizon: int
) -> np.ndarray:
    """The realised-variance HAR anchor's sigma, refitted on the same schedule."""
    every, lags = int(settings["volatility_refit_every"]), [int(k) for k in settings["har_lags"]]
    returns = candles_of(table).log_returns()
    paths = []
    for i in range(0, len(origins), every):
        first, last = int(origins[i]), int(origins[min(i + every, len(origins)) - 1])
        params = fit_log_variance_har(
            rv[:first], returns[:first], lags, float(settings["har_floor"])
        )
        paths.append(variance_har_paths(rv[:last], params, last - first + 1, horizon))
    return np.vstack(paths)


def conformal_radius(
    moves: np.ndarray, sigma: np.ndarray, settings: dict[str, Any], horizon: int
) -> dict[float, np.ndarray]:
    """Per central coverage, the log radius q * sigma of every origin and step, q from the
    adaptive conformal replay of the normalised scores |move| / sigma."""
    window = int(settings["calibration_window"])
    replay = window + int(settings["adaptation_origins"]) + horizon + 1
    scores = np.abs(moves) / sigma
    radius = {}
    for coverage in COVERAGES:
        quantile = np.column_stack(
            [
                adaptive_quantiles(
                    scores[:, s], coverage, float(settings["aci_gamma"]), s + 1, window, replay
                )
                for s in range(horizon)
            ]
        )
        radius[coverage] = quantile * sigma
    return radius


def dense_walk(
    table: pd.DataFrame, settings: dict[str, Any], horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The walk's origins (the replay before the selection period, then every candle with
    ``horizon`` known closes after it), each origin's last close, its actual closes and
    the masks of the selection and scored periods."""
    n = len(table)
    replay = int(settings["calibration_window"]) + int(settings["adaptation_origins"]) + horizon + 1
    selection = (int(SELECTION[0] * n), int(SELECTION[1] * n))
    origins = np.arange(selection[0] - replay + 1, n - horizon + 1)
    closes = table["close_usd"].to_numpy()
    last = closes[origins - 1]
    actual = closes[origins[:, None] + np.arange(horizon)[None, :]]
    periods = {
        "selection": (origins >= selection[0]) & (origins < selection[1]),
        "scored": origins >= int(SCORED * n),
    }
    return origins, last, actual, periods


def run_series(
    name: str, raw: pd.DataFrame, interval: str, rv: np.ndarray | None
) -> dict[str, Any]:
    """Every model (and the RV anchor when ``rv``) on one series: both periods' scores."""
    settings, horizon = settings_of(interval)
    table, n = usd_table(raw), len(raw)
    origins, last, actual, periods = dense_walk(table, settings, horizon)
    moves = np.log(actual / last[:, None])
    raw_scores: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    names = [*MODELS, *([RV_ANCHOR] if rv is not None else [])]
    for model in names:
        started = time.perf_counter()
        sigma = (
            rv_sigmas(table, rv, settings, origins, horizon)
            if model == RV_ANCHOR
            else walk_sigmas(table, settings, model, origins, horizon)
        )
        radius = conformal_radius(moves, sigma, settings, horizon)
        seconds[model] = time.perf_counter() - started
        raw_scores[model] = {
            period: period_scores(actual[mask], last[mask], {c: r[mask] for c, r in radius.items()})
            for period, mask in periods.items()
        }
    result: dict[str, Any] = {
        "series": name,
        "interval": interval,
        "candles": n,
        "horizon": horizon,
    }
    times = pd.to_datetime(raw["open_time"], unit="ms", utc=True)
    for period, mask in periods.items():
        chosen = origins[mask]
        result[f"{period}_period"] = [
            str(times.iloc[chosen[0]])[:16],
            str(times.iloc[chosen[-1]])[:16],
        ]
        result[f"{period}_origins"] = int(mask.sum())
    result["models"] = {
        model: {
            period: headline(
                against_ewma(raw_scores[model][period], raw_scores["ewma"][period]), period
            )
            for period in periods
        }
        | {"seconds": seconds[model]}
        for model in names
    }
    selection_scores = {m: result["models"][m]["selection"]["interval_score_80"] for m in MODELS}
    result["selected"] = min(selection_scores, key=selection_scores.get)
    return result


def main() -> None:
    started = time.perf_counter()
    daily, four_hour = (pd.read_csv(DATA / f"btcusdt_{i}.csv") for i in ("1d", "4h"))
    jobs = [
        ("btcusdt_1d", daily, "1d", daily_realised_variance(daily, four_hour)),
        ("btcusdt_4h", four_hour, "4h", None),
        *[(p.stem, pd.read_csv(p), "1d", None) for p in sorted((DATA / "pairs_1d").glob("*.csv"))],
    ]
    series = [run_series(*job) for job in tqdm(jobs, desc="series", unit="series")]
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "dtype": "float64",
        "numpy": np.__version__,
        "split": "per series of N candles: selection origins [0.4N, 0.6N), scored [0.6N, N-h]",
        "models": list(MODELS),
        "targets": TARGETS,
        "series": rounded(series),
    }
    results["summary"] = summarise(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    out = ROOT / "benchmarks" / "results" / "risk.json"
    out.write_text(compact_json(results) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
