"""Skill benchmark: the dense walk-forward of the registered recipe on the real daily or
4-hour history, against naive persistence and the other baselines.

In a throw-away copy of the project: `kedro run --pipeline training` on the candle
snapshot with the interval's recipe (`--env offline`, or `offline_intraday` for 4h), then
`kedro run --pipeline backtest` (an origin at
every candle of the last backtest.n_origins, the network refitted every
backtest.refit_every candles), both timed. Usage:

    .venv/bin/python benchmarks/skill.py --interval 1d
    .venv/bin/python benchmarks/skill.py --interval 4h

Writes benchmarks/results/skill_<interval>.json (wall times, CPU, precision, the tables
by step and overall, the gate's verdict) and prints the tables in markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy, the candles
from support.project import copy_project, cpu_model, kedro_cli  # noqa: E402

# Per interval: the environment reading its snapshot with its recipe (offline_intraday:
# the 4h candles with intraday's modelling and backtest settings).
ENVIRONMENTS = {"1d": "offline", "4h": "offline_intraday"}


# conv1d_lstm_unshrunk: the network's own forecasts before shrinkage (points only); every
# random-walk anchor of backtest.volatility_anchors (naive_<volatility>) is kept too
MODELS = ("conv1d_lstm", "conv1d_lstm_unshrunk", "naive", "drift", "AutoETS")
STEP_COLUMNS = (
    "rmse_ratio_to_naive",
    "mae_ratio_to_naive",
    "dm_p_worse",
    "dm_p_better",
    "directional_accuracy",
    "directional_calls",
    "up_share",
    "shrinkage_weight",
    "coverage_80",
    "coverage_95",
    "width_80",
    "interval_score_80",
)


def markdown(frame: pd.DataFrame) -> str:
    """A markdown table, numbers to 4 decimals (or thousands for large ones)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return (
                "" if pd.isna(value) else (f"{value:.4f}" if abs(value) < 10 else f"{value:,.0f}")
            )
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", choices=sorted(ENVIRONMENTS), default="1d")
    parser.add_argument("--params", default="", help="extra --params for both runs")
    args = parser.parse_args()
    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", TF_CPP_MIN_LOG_LEVEL="2")
    env = ENVIRONMENTS[args.interval]
    extra = ("--params", args.params) if args.params else ()
    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder), with_source=True)
        training = kedro_cli(project, "--pipelines", "training", "--env", env, *extra)
        backtest = kedro_cli(project, "--pipelines", "backtest", "--env", env, *extra)
        reporting = project / "data" / "08_reporting"
        table = pd.read_csv(reporting / "backtest.csv")
        gate = json.loads((reporting / "gate.json").read_text())
        metrics = json.loads((reporting / "metrics.json").read_text())
        origins = pd.read_csv(project / "data" / "05_model_input" / "backtest_origins.csv")
    kept = table["model"].isin(MODELS) | table["model"].str.startswith("naive_")
    by_step = table[(table["scope"] == "step") & kept]
    overall = table[(table["scope"] == "overall")]
    results = {
        "interval": args.interval,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "precision": metrics["training"]["precision"],
        "env": env,
        "params": args.params,
        "training_seconds": training,
        "backtest_seconds": backtest,
        "origins": len(origins),
        "refits": int(origins["refit"].nunique()),
        "first_origin": str(origins["first_forecast"].iloc[0]),
        "last_origin": str(origins["first_forecast"].iloc[-1]),
        "by_step": by_step.to_dict(orient="records"),
        "overall": overall.to_dict(orient="records"),
        "network_by_refit": table[
            (table["scope"] == "refit") & (table["model"] == "conv1d_lstm")
        ].to_dict(orient="records"),
        "gate": {"promoted": gate["promoted"], "reason": gate["reason"]},
    }
    out = ROOT / "benchmarks" / "results" / f"skill_{args.interval}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(
        f"{args.interval}: {len(origins)} origins ({results['first_origin']} .. "
        f"{results['last_origin']}), {results['refits']} refits; training {training:.0f} s, "
        f"backtest {backtest:.0f} s; {results['cpu']}, {results['cores']} cores, "
        f"{results['precision']}.\n"
    )
    network = by_step[by_step["model"] == "conv1d_lstm"]
    print(markdown(network[["key", *STEP_COLUMNS]].rename(columns={"key": "step"})) + "\n")
    unshrunk = by_step[by_step["model"] == "conv1d_lstm_unshrunk"]
    print("Before shrinkage:\n")
    print(markdown(unshrunk[["key", *STEP_COLUMNS[:7]]].rename(columns={"key": "step"})) + "\n")
    columns = [
        "model",
        "n",
        "rmse_ratio_to_naive",
        "mae_ratio_to_naive",
        "dm_p_worse",
        "directional_accuracy",
        "up_share",
        "coverage_80",
        "coverage_95",
        "interval_score_80",
        "interval_score_95",
    ]
    print(markdown(overall[columns]) + "\n")
    print(f"Gate: {gate['reason']}")


if __name__ == "__main__":
    main()
