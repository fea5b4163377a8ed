"""The served model runs one forecast when it loads (serving.model_files.warm_up): the
first request must not pay for what a first forecast costs: loading (or, on a machine
that never ran them, compiling) the feature kernels and tracing the network's replay
(8.6 s for the first forecast in benchmarks/abuse.py without it, against ~40 ms after)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import skops.io

from cryptopythia.serving.model_files import warm_up_candles

from support.forecasters import make_forecaster, make_silver

LOAD_AND_COUNT = """
import json, sys
from cryptopythia.indicators import kernels_recursive, kernels_rolling, kernels_sums
from cryptopythia.serving.model_files import forecaster_from_artifacts, warm_up

def compiled():
    kernels = [k for m in (kernels_recursive, kernels_rolling, kernels_sums)
               for k in vars(m).values() if hasattr(k, "signatures")]
    return sum(len(k.signatures) for k in kernels)

forecaster = forecaster_from_artifacts(json.loads(sys.argv[1]))
before = compiled()
warm_up(forecaster)
print(json.dumps([before, compiled()]))
"""


@pytest.mark.slow  # a fresh Python process loading TensorFlow
def test_loading_the_served_model_readies_the_feature_kernels(tmp_path):
    # weights 0, as on BTC daily: before, the warm-up returned at once (no network to run)
    forecaster = make_forecaster(make_silver(400), shrinkage=[0.0, 0.0, 0.0])
    network, scaler, config = forecaster.to_artifacts()
    artifacts = {
        "network": str(tmp_path / "model.keras"),
        "scaler": str(tmp_path / "scaler.skops"),
        "config": str(tmp_path / "config.json"),
    }
    network.save(artifacts["network"])
    skops.io.dump(scaler, artifacts["scaler"])
    (tmp_path / "config.json").write_text(json.dumps(config, default=str))
    done = subprocess.run(  # a fresh process: no kernel compiled by other tests
        [sys.executable, "-c", LOAD_AND_COUNT, json.dumps(artifacts)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == 0 and after > 0


@pytest.mark.parametrize("interval", ["1m", "4h", "1d", "1w", "1M"])
def test_warm_up_candles_are_valid_silver_of_the_interval(interval):
    from cryptopythia.candles import broken_rules, off_grid

    candles = warm_up_candles(interval, 300)
    assert len(candles) == 300 and candles["open_time"].is_monotonic_increasing
    assert not off_grid(candles["open_time"], interval).any()
    assert not broken_rules(candles).to_numpy().any()
    assert (candles["close"].diff().dropna() != 0).all()
