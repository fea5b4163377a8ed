"""Interval benchmark: the adaptive conformal intervals of a forecaster whose shrinkage
weights are 0 (it forecasts the last close, as the network did at every refit of the latest
dense walk-forwards), for several `modelling.intervals` settings, in seconds instead of a
walk-forward's half hour.

On the origins of the dense walk-forward (the last `--origins` candles of the real
snapshot, the volatility model refitted every `--refit-every` candles on the inner train
part of the rows before), each origin's interval is built as `model.forecaster` builds it:
scores |log(actual / forecast)| / sigma_h of the latest calibration_window +
adaptation_origins + horizon + 1 forecasts, adaptive conformal inference on them, forecast *
exp(+-q * sigma_h). Usage:

    .venv/bin/python benchmarks/intervals.py --interval 4h
    .venv/bin/python benchmarks/intervals.py --interval 1d

Writes benchmarks/results/intervals_<interval>.json and prints a markdown table: the 80% and
95% Winkler interval scores (USD, lower is better) and coverage per setting. With the
defaults it reproduces the network's interval numbers of benchmarks/skill.py (within 0.1%: the
volatility model is fitted on an approximate inner train part) when
the network's weights were all 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the snapshot's paths, the CPU
from cryptopythia.model.intervals import adaptive_quantile, fit_garch, volatility_paths  # noqa: E402
from cryptopythia.model.statistics import interval_score  # noqa: E402

from support.project import DAILY_CANDLES, FOUR_HOUR_CANDLES, cpu_model  # noqa: E402

# Per interval: candles, dense walk-forward origins, refit spacing, horizon (conf/intraday's).
SETTINGS = {"1d": (DAILY_CANDLES, 730, 30, 7), "4h": (FOUR_HOUR_CANDLES, 2190, 180, 6)}
# The settings compared, on top of conf/base/parameters_modelling.yml's modelling.intervals.
VARIANTS = {
    "defaults (garch, window 200, gamma 0.005)": {},
    "ewma volatility": {"volatility": "ewma"},
    "calibration_window 500": {"calibration_window": 500},
    "calibration_window 1000": {"calibration_window": 1000},
    "calibration_window 500, gamma 0.002": {"calibration_window": 500, "aci_gamma": 0.002},
    # the same 350 replayed forecasts per request as the defaults (min_candles unchanged)
    "calibration_window 300, adaptation 50": {"calibration_window": 300, "adaptation_origins": 50},
    "calibration_window 340, adaptation 10": {"calibration_window": 340, "adaptation_origins": 10},
}


def naive_intervals(
    closes: np.ndarray, settings: dict, n_origins: int, refit_every: int, horizon: int
) -> dict[str, dict[str, list[float]]]:
    """Per coverage: the interval score and the hit of every (origin, step) of the walk."""
    returns = np.r_[np.nan, np.diff(np.log(closes))]
    replay = int(settings["calibration_window"]) + int(settings["adaptation_origins"])
    replay += horizon + 1
    results = {f"{c}": {"score": [], "hit": []} for c in settings["coverage"]}
    first = len(closes) - n_origins
    for start in range(first, len(closes), refit_every):
        # the refit's volatility model: the inner train part (0.85) of the rows before it
        garch = None
        if settings["volatility"] == "garch":
            garch = fit_garch(returns[1 : int(start * 0.85)])
        for origin in range(start, min(start + refit_every, len(closes))):
            sigma = volatility_paths(returns[:origin], settings, garch, replay, horizon)
            past = np.arange(origin - replay, origin)  # replayed origins' last closes
            for step in range(1, min(horizon, len(closes) - origin) + 1):
                known = past[: replay - step]
                scores = np.abs(np.log(closes[known + step] / closes[known]))
                scores /= sigma[: replay - step, step - 1]
                actual = closes[origin - 1 + step]
                for coverage in settings["coverage"]:
                    q = adaptive_quantile(
                        scores,
                        coverage,
                        settings["aci_gamma"],
                        step,
                        settings["calibration_window"],
                    )
                    radius = q * sigma[-1, step - 1]
                    lower, upper = closes[origin - 1] * np.exp([-radius, radius])
                    score = interval_score(np.array([actual]), lower, upper, coverage)
                    results[f"{coverage}"]["score"].append(float(score[0]))
                    results[f"{coverage}"]["hit"].append(bool(lower <= actual <= upper))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", choices=sorted(SETTINGS), default="4h")
    args = parser.parse_args()
    path, n_origins, refit_every, horizon = SETTINGS[args.interval]
    closes = pd.read_csv(path)["close"].to_numpy(dtype="float64")
    base = yaml.safe_load((ROOT / "conf/base/parameters_modelling.yml").read_text())
    rows = []
    for name, override in VARIANTS.items():
        settings = {**base["modelling"]["intervals"], **override}
        results = naive_intervals(closes, settings, n_origins, refit_every, horizon)
        row = {"setting": name, **override}
        for coverage, values in results.items():
            label = round(float(coverage) * 100)
            row[f"interval_score_{label}"] = round(float(np.mean(values["score"])), 1)
            row[f"coverage_{label}"] = round(float(np.mean(values["hit"])), 4)
        rows.append(row)
    out = ROOT / "benchmarks" / "results" / f"intervals_{args.interval}.json"
    out.write_text(
        json.dumps(
            {
                "interval": args.interval,
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "origins": n_origins,
                "refit_every": refit_every,
                "horizon": horizon,
                "variants": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"{args.interval}: {n_origins} origins, steps 1..{horizon}, naive forecast\n")
    print("| setting | 80% interval score | 80% coverage | 95% interval score | 95% coverage |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['setting']} | {row['interval_score_80']:,.0f} | {row['coverage_80']:.3f} "
            f"| {row['interval_score_95']:,.0f} | {row['coverage_95']:.3f} |"
        )


if __name__ == "__main__":
    main()
