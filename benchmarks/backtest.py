"""Skill benchmark: the walk-forward backtest on the real daily history.

In a throw-away copy of the project: `kedro run --pipeline training --env offline` on
../shared/data/btcusdt_1d.csv (default parameters), then `kedro run --pipeline
backtest` (default folds), timed. Usage:

    .venv/bin/python benchmarks/backtest.py [--params "backtest.n_folds=6,..."]

Writes benchmarks/results/backtest.json (wall times, the overall table, the
Diebold–Mariano test, the gate) and prints the overall table in markdown.
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
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy
from support.project import copy_project, kedro_cli  # noqa: E402

DAILY = ROOT.parent / "shared" / "data" / "btcusdt_1d.csv"
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="", help="extra --params for the backtest run")
    args = parser.parse_args()
    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", TF_CPP_MIN_LOG_LEVEL="2")

    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder), with_source=True)
        training = kedro_cli(
            project,
            "--pipeline",
            "training",
            "--env",
            "offline",
            "--params",
            f"data_engineering.dump_path={DAILY}",
        )
        extra = ["--params", args.params] if args.params else []
        backtest = kedro_cli(project, "--pipeline", "backtest", *extra)
        reporting = project / "data" / "08_reporting"
        table = pd.read_csv(reporting / "backtest.csv")
        folds = pd.read_csv(project / "data" / "05_model_input" / "backtest_folds.csv")
        comparison = json.loads((reporting / "backtest_diebold_mariano.json").read_text())
        gate = json.loads((reporting / "gate.json").read_text())
        metrics = json.loads((reporting / "metrics.json").read_text())

    overall = table[table["scope"] == "overall"].drop(columns=["scope", "key"])
    results = {
        "training_seconds": training,
        "backtest_seconds": backtest,
        "folds": folds.to_dict(orient="records"),
        "overall": overall.to_dict(orient="records"),
        "by_step": table[table["scope"] == "step"].to_dict(orient="records"),
        "diebold_mariano": comparison,
        "gate": gate,
        "training_test_metrics": metrics["test"],
    }
    (ROOT / "benchmarks" / "results" / "backtest.json").write_text(
        json.dumps(results, indent=2, default=str) + "\n"
    )
    print(
        f"training {training:.0f} s, backtest {backtest:.0f} s; "
        f"{len(folds)} folds, origins {folds['first_forecast'].iloc[0]} .. "
        f"{folds['first_forecast'].iloc[-1]}\n"
    )
    columns = [
        "model",
        "rmse",
        "rmse_ratio_to_naive",
        "mae",
        "mape",
        "mase",
        "directional_accuracy",
        "coverage_80",
        "coverage_95",
    ]
    shown = overall[columns].copy()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in shown.itertuples(index=False):
        cells = [row.model] + [
            "" if pd.isna(v) else (f"{v:.4f}" if abs(v) < 10 else f"{v:,.0f}") for v in row[1:]
        ]
        print("| " + " | ".join(cells) + " |")
    dm = comparison["overall"]
    print(
        f"\nDiebold–Mariano (network vs naive, {dm['n']} forecasts): statistic "
        f"{dm['statistic']:.3f}, p-value {dm['p_value']:.3f}. Gate: {gate['reason']}."
    )


if __name__ == "__main__":
    main()
