"""The tags of a registered version name the volatility model of its intervals."""

from __future__ import annotations

from types import SimpleNamespace

import yaml

from cryptopythia.registry.registration import version_tags

from conftest import PROJECT_ROOT

REPORT = {
    "test": {"rmse_ratio_to_naive": 1.01},
    "test_period": {"first_target": "2025-01-01", "last_target": "2025-07-09"},
}
# the fields of a ModelSpec the tags read
SPEC = SimpleNamespace(target="log_return", n_timesteps=62, horizon=7, interval="4h")


def test_the_volatility_choice_is_a_tag_and_per_market_in_conf():
    tags = version_tags(REPORT, SPEC, "rmse_ratio_to_naive", 1.01, "run", volatility="har_range")
    assert tags["interval_volatility"] == "har_range"
    assert "interval_volatility" not in version_tags(REPORT, SPEC, "rmse_ratio_to_naive", 1.0, "r")
    # benchmarks/risk.py's choices: GARCH for BTC daily, HAR on the range for 4h
    conf = PROJECT_ROOT / "conf"
    base = yaml.safe_load((conf / "base/parameters_modelling.yml").read_text())
    intraday = yaml.safe_load((conf / "intraday/parameters_modelling.yml").read_text())
    assert base["modelling"]["intervals"]["volatility"] == "garch"
    assert intraday["modelling"]["intervals"]["volatility"] == "har_range"
