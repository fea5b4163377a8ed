"""The daily loop replayed on the snapshot's last year: the default daily model (trained by
`make run`'s command on every shipped candle), `kedro run --pipelines replay` over the
last 365 days, then `--pipelines monitor`; the step-1 scores by month.

    .venv/bin/python benchmarks/monitor_replay.py [--days 365]

Writes benchmarks/results/monitor_replay.json: per month, the scored origins, 80% and
95% coverage, the interval score's ratio to the EWMA random walk's, and the status the
daily monitor would have shown at the month's last origin; the wall times of each run.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cryptopythia.model.statistics import interval_score
from cryptopythia.monitoring.scores import rolling_scores
from cryptopythia.monitoring.status import judge, status_over_time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.project import copy_project, cpu_model, kedro_cli  # noqa: E402


def monthly(realised: pd.DataFrame, statuses: pd.Series) -> list[dict]:
    """Step-1 scores per calendar month of the target candle."""
    rows = realised[realised["step"] == 1].copy()
    rows["month"] = rows["target_time"].dt.strftime("%Y-%m")
    table = []
    for month, part in rows.groupby("month"):
        actual = part["actual"].to_numpy()
        record = {"month": month, "origins": len(part)}
        for coverage in ("80", "95"):
            lower, upper = (
                part[f"lower_{coverage}"].to_numpy(),
                part[f"upper_{coverage}"].to_numpy(),
            )
            walk = interval_score(
                actual,
                part[f"rw_lower_{coverage}"].to_numpy(),
                part[f"rw_upper_{coverage}"].to_numpy(),
                int(coverage) / 100,
            ).mean()
            record[f"coverage_{coverage}"] = float(np.mean((actual >= lower) & (actual <= upper)))
            record[f"interval_score_ratio_{coverage}"] = float(
                interval_score(actual, lower, upper, int(coverage) / 100).mean() / walk
            )
        last_origin = part["origin"].max()
        record["status_at_month_end"] = str(statuses.loc[statuses.index <= last_origin].iloc[-1])
        table.append(record)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="replayed origins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder), with_source=True)
        seconds = {"training": kedro_cli(project, "--pipelines", "training", "--env", "offline")}
        silver = pd.read_csv(project / "data/02_intermediate/silver.csv", parse_dates=["open_time"])
        start, end = silver["open_time"].iloc[-args.days], silver["open_time"].iloc[-1]
        params = f"replay.start={start.date()},replay.end={end.date()}"
        seconds["replay"] = kedro_cli(project, "--pipelines", "replay", "--params", params)
        seconds["monitor"] = kedro_cli(project, "--pipelines", "monitor")
        realised = pd.read_csv(
            project / "data/07_model_output/realised_forecasts.csv",
            parse_dates=["origin", "target_time"],
        )
        report = json.loads((project / "data/08_reporting/monitoring.json").read_text())
        metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())
    settings = yaml.safe_load((ROOT / "conf/base/parameters_monitor.yml").read_text())["monitor"]
    rolling = rolling_scores(realised, 1, int(settings["status"]["window"]))
    statuses = pd.Series(
        status_over_time(rolling, settings["status"]).to_numpy(), rolling["origin"]
    )
    # what each day's warn or alarm broke: "80% coverage", "95% interval score"...
    broken = [
        {
            found[0]
            for reason in judge(row, settings["status"])[1]
            if (found := re.match(r"\d+% (coverage|interval score)", reason))
        }
        for _, row in rolling.iterrows()
    ]
    reasons = pd.Series(["; ".join(sorted(b)) for b in broken], rolling["origin"])
    result = {
        "what": "replay + monitor of the default daily BTCUSDT model over the snapshot's last days",
        "replayed": {"start": str(start.date()), "end": str(end.date()), "origins": args.days},
        "model_test_period": metrics.get("test_period"),
        "final_status": report["versions"],
        "status_days": statuses.value_counts().to_dict(),
        "alarm_reasons": reasons[statuses == "alarm"].value_counts().to_dict(),
        "warn_reasons": reasons[statuses == "warn"].value_counts().to_dict(),
        "by_month": monthly(realised, statuses),
        "seconds": seconds,
        "cpu": cpu_model(),
        "precision": "float32 network (the default model's shrinkage weights are 0: not run)",
        "python": platform.python_version(),
    }
    out = ROOT / "benchmarks" / "results" / "monitor_replay.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
