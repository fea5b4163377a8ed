"""The pooled throughput and the markdown tables of benchmarks/train.py: each way's epochs of
several runs as one, the training ways' samples/s and the targets' skill."""

from __future__ import annotations

import statistics
from typing import Any


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several throughput runs as one: each way's epochs pooled, medians and speed-ups of
    the pool (this shared CPU alternates between fast and ~2x slower epochs)."""
    ways = {name: [] for name in runs[0]["ways"]}
    for run in runs:
        for name, way in run["ways"].items():
            ways[name] += way["samples_per_second_per_epoch"]
    reference = statistics.median(next(iter(ways.values())))
    return {
        **{key: value for key, value in runs[0].items() if key != "ways"},
        "runs": len(runs),
        "ways": {
            name: {
                "samples_per_second_median": round(statistics.median(values), 1),
                "samples_per_second_best": round(max(values), 1),
                "samples_per_second_per_epoch": values,
                "speedup_vs_reference": round(statistics.median(values) / reference, 2),
            }
            for name, values in ways.items()
        },
    }


def markdown(results: dict[str, Any]) -> str:
    default = results["pipeline_default"]
    lines = [
        f"Whole `training` pipeline (offline, daily history, default parameters): "
        f"**{default['wall_seconds']} s**, {default['training']['epochs_run']} epochs "
        f"(early stopping, best {default['training']['best_epoch']}); "
        f"{results['machine']['cpu']}, {results['machine']['cpus']} cores; throughput: "
        f"{results['throughput']['runs']} runs x {results['throughput']['epochs_measured']} "
        "epochs per way, pooled.",
        "",
        "| training way | samples/s (median) | best epoch | vs the reference recipe (medians) |",
        "|---|---:|---:|---:|",
    ]
    for name, way in results["throughput"]["ways"].items():
        lines.append(
            f"| {name} | {way['samples_per_second_median']:.0f} | "
            f"{way['samples_per_second_best']:.0f} | {way['speedup_vs_reference']:.2f}x |"
        )
    lines += [
        "",
        f"Test split {default['test_period']['first_target'][:10]} -> "
        f"{default['test_period']['last_target'][:10]} (USD close):",
        "",
        "| target | RMSE | naive RMSE | ratio | MAE | dir. acc. | up share | epochs | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target, skill in results["targets"].items():
        lines.append(
            f"| {target} | {skill['rmse']:.1f} | {skill['naive_rmse']:.1f} | "
            f"{skill['rmse_ratio_to_naive']:.4f} | {skill['mae']:.1f} | "
            f"{skill['directional_accuracy']:.3f} | {skill['up_share']:.3f} | "
            f"{skill['epochs_run']} | {skill['wall_seconds']} |"
        )
    return "\n".join(lines)
