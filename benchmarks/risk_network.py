"""Risk benchmark, network part (issue 24, "network"): the Conv1D + LSTM volatility
correction (cryptopythia.model.volatility_network) on top of the econometric model BTC
daily's selection period chose (benchmarks/risk.py's ``selected`` in risk.json), on the
same dense walk, periods, conformal + ACI layer and scores as risk.py.

An origin at every candle of ../shared/data/btcusdt_1d.csv from the conformal replay
before risk.py's selection period to N - h. Every ``--every`` origins (default: conf's
volatility_refit_every, 30, the econometric model's own schedule) the econometric model
and the network are refitted on every candle before the block (an expanding window), with
conf's modelling.intervals.network; the weights are fitted on the last
calibration_fraction of those candles. Scored: the EWMA walk, the econometric model, the
combination (the weights chosen) and the raw network (every weight 1, for reference),
as 80% interval-score ratios to the EWMA walk on risk.py's selection and scored periods.

    nice -n 10 .venv/bin/python benchmarks/risk_network.py

Writes benchmarks/results/risk_network.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the CPU's name
from risk import (
    DATA,
    ROOT,
    conformal_radius,
    dense_walk,
    settings_of,
    usd_table,
    walk_sigmas,
)
from risk_report import compact_json
from risk_scores import against_ewma, headline, period_scores, rounded

from cryptopythia.model.volatility import candles_of
from cryptopythia.model.volatility_network import combine, walk_corrected

from support.project import cpu_model

SERIES = "btcusdt_1d"


def selected_model() -> str:
    """The econometric model risk.py's selection period chose for BTC daily."""
    results = json.loads((ROOT / "benchmarks" / "results" / "risk.json").read_text())
    return next(row["selected"] for row in results["series"] if row["series"] == SERIES)


def scores(
    sigma: np.ndarray,
    moves: np.ndarray,
    settings: dict[str, Any],
    horizon: int,
    actual: np.ndarray,
    last: np.ndarray,
    periods: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Both periods' scores of one sigma walk under the conformal + ACI layer."""
    radius = conformal_radius(moves, sigma, settings, horizon)
    return {
        period: period_scores(actual[mask], last[mask], {c: r[mask] for c, r in radius.items()})
        for period, mask in periods.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=None, help="origins per refit")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    raw = pd.read_csv(DATA / f"{SERIES}.csv")
    settings, horizon = settings_of("1d")
    every = args.every or int(settings["volatility_refit_every"])
    network = settings["network"]  # its base is the selection's choice here, not conf's
    econometric = selected_model()
    table, n = usd_table(raw), len(raw)
    origins, last, actual, periods = dense_walk(table, settings, horizon)
    moves = np.log(actual / last[:, None])
    econ_settings = {**settings, "volatility": econometric}
    walk_started = time.perf_counter()
    sigma, correction, weights, refits = walk_corrected(
        candles_of(table), econ_settings, network, origins, horizon, every
    )
    walk_seconds = time.perf_counter() - walk_started
    reference = walk_sigmas(table, settings, econometric, origins, horizon)
    assert np.allclose(sigma, reference, rtol=1e-9), "the walk's econometric sigma is risk.py's"
    walks = {
        "ewma": walk_sigmas(table, settings, "ewma", origins, horizon),
        econometric: sigma,
        f"{econometric}+network": combine(sigma, correction, weights),
        f"{econometric}+network (every weight 1)": combine(sigma, correction, np.ones(horizon)),
    }
    raw_scores = {
        name: scores(walk, moves, settings, horizon, actual, last, periods)
        for name, walk in walks.items()
    }
    times = pd.to_datetime(raw["open_time"], unit="ms", utc=True)
    positive = np.array([r["weights"] for r in refits]) > 0
    results: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "precision": "float32",
        "series": SERIES,
        "candles": n,
        "horizon": horizon,
        "econometric": econometric,
        "refit_every": every,
        "refits": len(refits),
        "network_volatility": network,
        **{
            f"{period}_period": [
                str(times.iloc[origins[m][0]])[:10],
                str(times.iloc[origins[m][-1]])[:10],
            ]
            for period, m in periods.items()
        },
        **{f"{period}_origins": int(m.sum()) for period, m in periods.items()},
        "models": {
            name: {
                period: headline(against_ewma(values[period], raw_scores["ewma"][period]), period)
                for period in periods
            }
            for name, values in raw_scores.items()
        },
        "refits_with_a_weight_by_step": positive.mean(axis=0).tolist(),
        "mean_weight_by_step": np.mean([r["weights"] for r in refits], axis=0).tolist(),
        "weights_by_refit": [
            {**r, "first_origin": str(times.iloc[r["first_origin"]])[:10]} for r in refits
        ],
        "walk_seconds": walk_seconds,
    }
    results["seconds"] = time.perf_counter() - started
    out = ROOT / "benchmarks" / "results" / "risk_network.json"
    out.write_text(compact_json(rounded(results)) + "\n")
    print(summary(results))


def summary(results: dict[str, Any]) -> str:
    """The headline numbers as text."""
    lines = [
        f"{results['series']}: {results['econometric']} + network, refit every "
        f"{results['refit_every']} origins ({results['refits']} refits), "
        f"{results['seconds']:.0f} s on {results['cpu']} ({results['cores']} cores); "
        f"scored origins {results['scored_origins']} {results['scored_period']}",
    ]
    for name, row in results["models"].items():
        scored, selection = row["scored"], row["selection"]
        steps = ", ".join(f"{v:.3f}" for v in scored["ratio_80_by_step"])
        coverage = ", ".join(f"{v:.3f}" for v in scored["coverage_80_by_step"])
        lines.append(
            f"- {name}: selection {selection['ratio_80']:.4f}; scored {scored['ratio_80']:.4f} "
            f"[{steps}], CRPS ratio {scored['crps_ratio']:.4f}, DM p "
            f"{scored['dm_overall']['p_value']:.3g}, 80% coverage [{coverage}]"
        )
    share = ", ".join(f"{v:.2f}" for v in results["refits_with_a_weight_by_step"])
    lines.append(f"Share of refits with a positive weight, by step: [{share}]")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
