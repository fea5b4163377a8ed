"""Training benchmark on the real daily candles: pipeline wall time, throughput, skill.

    python benchmarks/train.py [--data data/01_raw/snapshot/btcusdt_1d.csv.gz] [--epochs 6]
                               [--targets log_return,diff,close] [--out benchmarks/results/train.json]

1. ``kedro run --pipeline training --env offline`` with the default parameters on the
   whole daily history, in a throw-away copy of the project (its own sqlite MLflow
   store): wall time of the session and the test metrics (USD, vs naive).
2. Training throughput (samples/s per epoch) on the same training windows, in one
   process, epochs interleaved so that a noisy shared CPU hits every way alike:
   - the reference recipe as written: windows copied into an in-memory array by a Python
     loop, plain ``model.fit(X, y)`` at its batch size (64), float32 (Keras feeds numpy
     arrays through its own autotuned tf.data pipeline, whose iterator shutdown stalls
     some epochs by ~0.6 s on 2 cores; the pipeline's ``window_dataset`` does not tune);
   - the pipeline's data path at the reference recipe's batch size and float32:
     ``window_dataset`` (tf.data, windows gathered by index from one copy of the series)
     and ``steps_per_execution``;
   - the pipeline's default parameters in float32, and with precision "auto" resolved
     for this CPU when that is not float32 (mixed bfloat16 on AMX/AVX512-BF16 CPUs).
   Every figure is reported with the CPU model and the precision it was measured in.
3. With ``--targets``: one more pipeline run per extra target kind, for the test RMSE
   ratio to the naive forecast of each.

Writes JSON to ``--out`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
# The reference recipe (the original notebook) trains with model.fit at batch size 64.
REFERENCE_BATCH = 64
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the project copy
from train_report import markdown, pooled  # noqa: E402

from support.mlflow_store import end_mlflow_runs  # noqa: E402
from support.project import DAILY_CANDLES as DEFAULT_DATA  # noqa: E402
from support.project import copy_project, cpu_model  # noqa: E402


def run_training(project: Path, data: Path, extra: dict[str, Any]) -> tuple[float, dict]:
    """One ``kedro run --pipeline training --env offline``: wall time and metrics.json."""
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    configure_project("cryptopythia")
    params: dict[str, Any] = {"data_engineering": {"dump_path": str(data)}}
    if extra:
        params["modelling"] = extra
    start = time.perf_counter()
    with KedroSession.create(project_path=project, env="offline", runtime_params=params) as s:
        s.run(pipeline_name="training")
    elapsed = time.perf_counter() - start
    end_mlflow_runs()
    report = json.loads((project / "data/08_reporting/metrics.json").read_text())
    return elapsed, report


def throughput(project: Path, epochs: int) -> dict[str, Any]:
    """Samples/s per epoch of the reference recipe's way and the pipeline's, interleaved."""
    import numpy as np
    import yaml

    from cryptopythia.candles import interval_of
    from cryptopythia.datasets import CandleCSVDataset
    from cryptopythia.features import check_parameters
    from cryptopythia.model.network import build_model, resolve_precision
    from cryptopythia.model.scaling import fit_scaler, scale_table
    from cryptopythia.model.split import split_chronologically
    from cryptopythia.model.table import prepare_model_table
    from cryptopythia.model.windows import count_windows, window_dataset

    params = yaml.safe_load((ROOT / "conf/base/parameters_modelling.yml").read_text())["modelling"]
    gold = CandleCSVDataset(
        filepath=str(project / "data/03_primary/gold.csv"),
        datetime_columns=["open_time", "close_time"],
    ).load()
    features = yaml.safe_load((ROOT / "conf/base/parameters_feature_engineering.yml").read_text())
    units = check_parameters(features["feature_engineering"], interval_of(gold["open_time"]))
    table, spec = prepare_model_table(gold, params, units["units"])
    train, _, _ = split_chronologically(
        table, params["split"], params["n_timesteps"], params["horizon"]
    )
    scaler = fit_scaler(train, spec)
    scaled = scale_table(scaler, train, spec)
    n_timesteps, horizon = spec.n_timesteps, spec.horizon
    n_windows = count_windows(len(scaled), n_timesteps, horizon)

    # The reference recipe's windows: one copy of every window, built in Python.
    reference_x = np.array([scaled[i : i + n_timesteps] for i in range(n_windows)])
    reference_y = np.array(
        [scaled[i + n_timesteps : i + n_timesteps + horizon, -1] for i in range(n_windows)]
    )

    steps, precision = params["steps_per_execution"], resolve_precision(params["precision"])
    batch = params["batch_size"]
    ways = {
        f"reference recipe: numpy windows, model.fit, batch {REFERENCE_BATCH}, float32": dict(
            batch=REFERENCE_BATCH, steps=1, precision="float32", data="numpy"
        ),
        f"pipeline data path at the reference settings: tf.data windows, batch "
        f"{REFERENCE_BATCH}, float32, steps_per_execution {steps}": dict(
            batch=REFERENCE_BATCH, steps=steps, precision="float32", data="tf"
        ),
        f"pipeline defaults in float32: tf.data windows, batch {batch}, float32, "
        f"steps_per_execution {steps}": dict(
            batch=batch, steps=steps, precision="float32", data="tf"
        ),
    }
    if precision != "float32":
        ways[
            f"pipeline defaults: tf.data windows, batch {batch}, {precision}, "
            f"steps_per_execution {steps}"
        ] = dict(batch=batch, steps=steps, precision=precision, data="tf")
    # The alternatives the defaults were chosen against (modelling.jit_compile, batch_size).
    ways[f"float32 with XLA (jit_compile): tf.data windows, batch {batch}"] = dict(
        batch=batch, steps=steps, precision="float32", data="tf", jit=True
    )
    ways[f"float32, batch {2 * batch}: tf.data windows, steps_per_execution {steps}"] = dict(
        batch=2 * batch, steps=steps, precision="float32", data="tf"
    )
    models, rates = {}, {name: [] for name in ways}
    for name, way in ways.items():
        models[name] = build_model(
            n_timesteps,
            scaled.shape[1],
            horizon,
            params["layers"],
            params["learning_rate"],
            precision=way["precision"],
            jit_compile=way.get("jit", False),
            steps_per_execution=way["steps"],
        )
        if way["data"] == "tf":
            way["dataset"] = window_dataset(
                scaled, n_timesteps, horizon, way["batch"], shuffle=True, seed=1
            )
    for epoch in range(epochs + 1):  # epoch 0 (tracing, warm-up) is not counted
        for name, way in ways.items():
            start = time.perf_counter()
            if way["data"] == "numpy":
                models[name].fit(
                    reference_x,
                    reference_y,
                    batch_size=way["batch"],
                    epochs=1,
                    shuffle=True,
                    verbose=0,
                )
            else:
                models[name].fit(way["dataset"], epochs=1, verbose=0)
            if epoch:
                rates[name].append(n_windows / (time.perf_counter() - start))
    reference_rate = statistics.median(rates[next(iter(ways))])
    return {
        "train_windows": n_windows,
        "window_shape": [n_timesteps, int(scaled.shape[1])],
        "reference_window_copy_mb": round(reference_x.nbytes / 2**20, 1),
        "pipeline_series_mb": round(scaled.nbytes / 2**20, 2),
        "epochs_measured": epochs,
        "ways": {
            name: {
                "samples_per_second_median": round(statistics.median(values), 1),
                "samples_per_second_per_epoch": [round(v, 1) for v in values],
                "speedup_vs_reference": round(statistics.median(values) / reference_rate, 2),
            }
            for name, values in rates.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=6, help="throughput epochs per way")
    parser.add_argument(
        "--runs", type=int, default=3, help="throughput runs (fresh models); medians pool them"
    )
    parser.add_argument("--targets", default="", help="extra target kinds, e.g. diff,close")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/train.json")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "data": str(args.data),
        "machine": {
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory() as workdir:
        project = copy_project(Path(workdir))
        wall, report = run_training(project, args.data.resolve(), {})
        results["pipeline_default"] = {
            "wall_seconds": round(wall, 1),
            "target": report["spec"]["target"],
            "test": report["test"],
            "training": report["training"],
            "test_period": report["test_period"],
        }
        results["throughput"] = pooled([throughput(project, args.epochs) for _ in range(args.runs)])
        results["targets"] = {report["spec"]["target"]: _skill(report, wall)}
        for target in filter(None, args.targets.split(",")):
            if target in results["targets"]:
                continue
            wall, report = run_training(project, args.data.resolve(), {"target": target})
            results["targets"][target] = _skill(report, wall)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


def _skill(report: dict, wall: float) -> dict[str, Any]:
    test = report["test"]
    return {
        "rmse": round(test["rmse"], 2),
        "naive_rmse": round(test["naive_rmse"], 2),
        "rmse_ratio_to_naive": round(test["rmse_ratio_to_naive"], 4),
        "mae": round(test["mae"], 2),
        "directional_accuracy": round(test["directional_accuracy"], 3),
        "up_share": round(test["up_share"], 3),
        "epochs_run": report["training"]["epochs_run"],
        "best_epoch": report["training"]["best_epoch"],
        "wall_seconds": round(wall, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
