"""The typed parameter schemas of monitor and replay: every wrong value named with its fix."""

from __future__ import annotations

import pytest
import yaml

from cryptopythia.parameters import check_parameters

from conftest import PROJECT_ROOT


def shipped(section: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_monitor.yml").read_text())[section]


def test_the_shipped_monitor_parameters_pass():
    check_parameters({"monitor": shipped("monitor")}, {"monitor"})


def test_a_status_window_that_is_not_scored_is_named():
    monitor = shipped("monitor")
    monitor["status"]["window"] = 45
    with pytest.raises(ValueError, match=r"status.window=45 must be one of windows=\[30, 90\]"):
        check_parameters({"monitor": monitor}, {"monitor"})


@pytest.mark.parametrize(
    ("replay", "wrong"),
    [
        ({"start": None, "end": "2025-07-09"}, "replay.start=None"),
        ({"start": "2025-01-01", "end": "soon"}, "replay.end='soon'"),
    ],
)
def test_replay_dates_are_checked_before_the_run(replay, wrong):
    with pytest.raises(ValueError, match=rf"{wrong}.*--params replay.start=2025-01-01"):
        check_parameters({"replay": replay}, {"replay"})


def test_a_missing_parameter_is_named_apart_from_the_word_missing():
    with pytest.raises(ValueError, match=r"ethusdt_1d\.replay\.start missing: Field required"):
        check_parameters({"replay": {"end": "2025-07-09"}}, {"replay"}, namespace="ethusdt_1d")


def shipped_data_engineering() -> dict:
    path = PROJECT_ROOT / "conf/base/parameters_data_engineering.yml"
    return yaml.safe_load(path.read_text())["data_engineering"]


def test_the_shipped_data_engineering_parameters_pass():
    check_parameters({"data_engineering": shipped_data_engineering()}, {"data_engineering"})


@pytest.mark.parametrize("value", ["abc", 0, -5, 1.5, None])
def test_a_dump_max_bytes_that_is_no_byte_count_is_named(value):
    params = {**shipped_data_engineering(), "dump_max_bytes": value}
    with pytest.raises(ValueError, match=rf"data_engineering.dump_max_bytes={value!r}"):
        check_parameters({"data_engineering": params}, {"data_engineering"})


def modelling() -> dict:
    path = PROJECT_ROOT / "conf/base/parameters_modelling.yml"
    return yaml.safe_load(path.read_text())["modelling"]


def test_the_shipped_modelling_parameters_pass():
    check_parameters({"modelling": modelling()}, {"modelling"})


@pytest.mark.parametrize(
    ("key", "value", "wrong"),
    [
        ("max_request_rows", 0, r"modelling.registry.max_request_rows=0"),
        ("max_request_rows", 100, r"max_candles=5000 <= max_request_rows=100 must hold"),
    ],
)
def test_serving_limits_are_checked(key, value, wrong):
    params = modelling()
    params["registry"][key] = value
    with pytest.raises(ValueError, match=wrong):
        check_parameters({"modelling": params}, {"modelling"})


def test_the_backtest_s_scoring_levels_are_checked_before_the_run():
    # backtest.scoring has no default in the code: conf/base/parameters_backtest.yml is
    # its one home, so a wrong or missing level is named before the walk-forward starts.
    conf = PROJECT_ROOT / "conf/base/parameters_backtest.yml"
    backtest = yaml.safe_load(conf.read_text())["backtest"]
    check_parameters({"backtest": backtest}, {"backtest"})
    wrong = {**backtest, "scoring": {**backtest["scoring"], "var_levels": [0.05, 1.5]}}
    with pytest.raises(ValueError, match=r"backtest\.scoring\.var_levels=\[0\.05, 1\.5\]"):
        check_parameters({"backtest": wrong}, {"backtest"})
    missing = {key: value for key, value in backtest.items() if key != "scoring"}
    with pytest.raises(ValueError, match=r"backtest\.scoring missing"):
        check_parameters({"backtest": missing}, {"backtest"})
