"""How fast the monitor's status catches a drifted forecaster, and how often it cries wolf.

Simulated deployments (tests/support/monitoring.py): a daily random walk with 2% daily
volatility and a forecaster calibrated to it (naive close, bounds from the true 2%). Calm
runs keep the volatility; drifted runs double the return variance on one day. Each run
is monitored as the daily `monitor` would be, with the project's settings (conf/base:
parameters_monitor.yml, the EWMA of parameters_modelling.yml): the status at every origin.
Reported: per calm evaluation, the share of warn / alarm; per calm run, the chance of any
alarm over its evaluations; per drifted run, the origins from the change to the first alarm.

    .venv/bin/python benchmarks/monitor_alarms.py [--runs 60]

Writes benchmarks/results/monitor_alarms.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from cryptopythia.monitoring.realised import pair_forecasts, realised_forecasts
from cryptopythia.monitoring.scores import rolling_scores
from cryptopythia.monitoring.status import status_over_time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.monitoring import simulated_deployment  # noqa: E402
from support.project import cpu_model  # noqa: E402

DAYS, DEPLOYED, CHANGE = 480, 200, 280  # 279 evaluated origins; drift 80 origins in
NOW = pd.Timestamp("2030-01-01", tz="UTC")


def project_settings() -> tuple[dict, dict]:
    """The EWMA settings of the intervals and the monitor's status rule, from conf/base."""
    base = ROOT / "conf" / "base"
    modelling = yaml.safe_load((base / "parameters_modelling.yml").read_text())["modelling"]
    monitor = yaml.safe_load((base / "parameters_monitor.yml").read_text())["monitor"]
    return modelling["intervals"], monitor["status"]


def statuses(seed: int, change: int | None, intervals: dict, settings: dict) -> pd.Series:
    """The status at every evaluated origin of one simulated deployment."""
    silver, ledger = simulated_deployment(seed, DAYS, DEPLOYED, change)
    realised = realised_forecasts(pair_forecasts(ledger, "SIMUSDT", "1d"), silver, NOW, intervals)
    rolling = rolling_scores(realised, int(settings["step"]), int(settings["window"]))
    return pd.Series(status_over_time(rolling, settings).to_numpy(), index=rolling["origin"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="simulated runs of each kind")
    parser.add_argument(
        "--alarm-p", type=float, help="try another monitor.status.alarm.coverage_p_value"
    )
    args = parser.parse_args()
    intervals, settings = project_settings()
    if args.alarm_p is not None:
        settings["alarm"]["coverage_p_value"] = args.alarm_p
    calm_alarm, calm_warn, any_alarm, delays = [], [], [], []
    for seed in tqdm(range(args.runs), desc="runs"):
        calm = statuses(seed, None, intervals, settings)
        calm_alarm.append(float((calm == "alarm").mean()))
        calm_warn.append(float((calm == "warn").mean()))
        any_alarm.append(bool((calm == "alarm").any()))
        drift = statuses(10_000 + seed, CHANGE, intervals, settings)
        after = drift[drift.index > drift.index[0] + pd.Timedelta(days=CHANGE - DEPLOYED)]
        alarmed = np.flatnonzero(after.to_numpy() == "alarm")
        delays.append(int(alarmed[0]) + 1 if len(alarmed) else None)
    found = [d for d in delays if d is not None]
    result = {
        "what": "monitor status on simulated deployments (variance x2 for the drifted ones)",
        "settings": settings,
        "runs": args.runs,
        "evaluations_per_calm_run": len(calm),
        "calm": {
            "alarm_share_per_evaluation": float(np.mean(calm_alarm)),
            "warn_share_per_evaluation": float(np.mean(calm_warn)),
            "runs_with_any_alarm": float(np.mean(any_alarm)),
        },
        "drift": {
            "detected_share": len(found) / len(delays),
            "detected_within_30": float(np.mean([d is not None and d <= 30 for d in delays])),
            "detected_within_60": float(np.mean([d is not None and d <= 60 for d in delays])),
            "delay_median": float(np.median(found)) if found else None,
            "delay_p90": float(np.quantile(found, 0.9)) if found else None,
        },
        "cpu": cpu_model(),
        "python": platform.python_version(),
    }
    suffix = "" if args.alarm_p is None else f"_alarm_p_{args.alarm_p:g}"
    out = ROOT / "benchmarks" / "results" / f"monitor_alarms{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
