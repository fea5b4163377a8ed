"""The pair list: namespaced parameters, names and the errors of a bad list."""

from __future__ import annotations

import pytest

from cryptopythia.pairs import Pair, PairsConfigLoader, expand_pairs, listed_pairs

from conftest import run_kedro


def load_parameters(project, runtime_params=None) -> dict:
    return PairsConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        merge_strategy={"parameters": "soft"},
        runtime_params=runtime_params or {},
    )["parameters"]


def test_the_default_lists_no_pair_and_keeps_the_single_pipeline(kedro_project):
    parameters = load_parameters(kedro_project)
    assert listed_pairs(parameters) == []
    assert "btcusdt_1d" not in parameters
    assert parameters["modelling"]["registry"]["model_name"] == "btc_forecaster"


def test_each_pair_gets_the_global_parameters_with_its_own_names(kedro_project):
    parameters = load_parameters(
        kedro_project,
        {
            "pairs": {
                "symbols": ["ethusdt", "SOLUSDT"],
                "intervals": ["1d", "4h"],
                "dump_path": "dumps/{symbol_lower}-{interval}.csv",
                "overrides": {
                    "4h": {"modelling": {"horizon": 6}},
                    "solusdt_4h": {"modelling": {"horizon": 3}},
                },
            },
            "modelling": {"epochs": 3},  # --params on a global section reaches every pair
        },
    )
    namespaces = [p.namespace for p in listed_pairs(parameters)]
    assert namespaces == ["ethusdt_1d", "ethusdt_4h", "solusdt_1d", "solusdt_4h"]
    eth = parameters["ethusdt_4h"]
    assert eth["data_engineering"]["symbol"] == "ETHUSDT"
    assert eth["data_engineering"]["interval"] == "4h"
    assert eth["data_engineering"]["dump_path"] == "dumps/ethusdt-4h.csv"
    assert eth["data_engineering"]["dump_names_symbol"] is True  # never another coin's file
    assert parameters["data_engineering"]["dump_names_symbol"] is False
    assert eth["modelling"]["epochs"] == 3
    assert eth["modelling"]["horizon"] == 6
    assert parameters["solusdt_4h"]["modelling"]["horizon"] == 3  # the pair's own override last
    assert parameters["solusdt_1d"]["modelling"]["horizon"] == parameters["modelling"]["horizon"]
    assert eth["modelling"]["registry"]["model_name"] == "ethusdt_4h_forecaster"
    assert eth["modelling"]["registry"]["scaler_name"] == "ethusdt_4h_scaler"
    assert eth["modelling"]["registry"]["serving_model_name"] == "ethusdt_4h_candle_forecaster"
    assert parameters["modelling"]["registry"]["model_name"] == "btc_forecaster"  # untouched


def test_replay_and_monitor_parameters_reach_every_pair(kedro_project):
    """The namespaced replay and monitor read params:<pair>.replay / .monitor: the global
    sections with --params applied, and a pair's own override on top."""
    parameters = load_parameters(
        kedro_project,
        {
            "pairs": {
                "symbols": ["ETHUSDT", "SOLUSDT"],
                "intervals": ["1d"],
                "overrides": {"solusdt_1d": {"monitor": {"demote_on_alarm": True}}},
            },
            "replay": {"start": "2025-01-01", "end": "2025-02-01"},
        },
    )
    for namespace in ("ethusdt_1d", "solusdt_1d"):
        assert parameters[namespace]["replay"] == {"start": "2025-01-01", "end": "2025-02-01"}
        assert parameters[namespace]["monitor"]["windows"] == parameters["monitor"]["windows"]
    assert parameters["ethusdt_1d"]["monitor"]["demote_on_alarm"] is False
    assert parameters["solusdt_1d"]["monitor"]["demote_on_alarm"] is True


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ({"symbols": ["ETH/USDT"], "intervals": ["1d"]}, r"\['ETH/USDT'\].*not Binance symbols"),
        ({"symbols": ["ETHUSDT"], "intervals": ["2d"]}, r"\['2d'\].*intervals"),
        ({"symbols": ["ETHUSDT"], "intervals": []}, "intervals is empty"),
        ({"symbols": 5, "intervals": ["1d"]}, "pairs.symbols must be a list"),
        ({"symbols": ["ETHUSDT", "ethusdt"], "intervals": ["1d"]}, "listed twice"),
    ],
)
def test_a_bad_pair_list_is_refused_with_the_fix(pairs, message):
    with pytest.raises(ValueError, match=message):
        listed_pairs({"pairs": pairs})


@pytest.mark.slow
def test_a_bad_pair_list_stops_kedro_run_before_any_node(kedro_project):
    # The pipeline registry reads the list too: it must not fall back to the single pair.
    with pytest.raises(ValueError, match=r"\['ETH/USDT'\].*not Binance symbols"):
        run_kedro(
            kedro_project,
            "training",
            env="offline",
            params={"pairs.symbols": "ETH/USDT", "pairs.intervals": "1d"},
        )
    assert not any((kedro_project / "data").glob("0[1-8]_*/*.csv"))


def test_a_parameter_named_like_a_pair_is_refused():
    with pytest.raises(ValueError, match="ethusdt_1d.*taken"):
        expand_pairs({"pairs": {"symbols": ["ETHUSDT"], "intervals": ["1d"]}, "ethusdt_1d": 1})


def test_a_list_from_the_command_line_is_a_spaced_string():
    # `--params "pairs.symbols=ETHUSDT SOLUSDT"`: Kedro splits --params items on commas.
    pairs = listed_pairs({"pairs": {"symbols": "ETHUSDT  SOLUSDT", "intervals": "1d;4h"}})
    assert [p.namespace for p in pairs] == ["ethusdt_1d", "ethusdt_4h", "solusdt_1d", "solusdt_4h"]


def test_placeholders_of_a_pair():
    assert Pair("SHIBUSDT", "1d").format("{pair}/{symbol}/{symbol_lower}/{interval}") == (
        "shibusdt_1d/SHIBUSDT/shibusdt/1d"
    )


def test_a_listed_4h_pair_gets_the_intraday_environments_settings(kedro_project):
    """conf/base's 4h overrides and `--env intraday` give a 4h series the same horizon,
    intervals and walk-forward: one set of 4h choices, wherever a 4h model is trained."""
    listed = load_parameters(
        kedro_project, {"pairs": {"symbols": ["ETHUSDT"], "intervals": ["4h"]}}
    )
    intraday = PairsConfigLoader(
        conf_source=str(kedro_project / "conf"),
        base_env="base",
        default_run_env="intraday",
        merge_strategy={"parameters": "soft"},
    )["parameters"]
    for section in ("modelling", "backtest"):
        assert listed["ethusdt_4h"][section]["horizon"] == intraday[section]["horizon"] == 6
    assert listed["ethusdt_4h"]["modelling"]["intervals"] == intraday["modelling"]["intervals"]
    assert intraday["modelling"]["intervals"]["calibration_window"] == 340
    for key in ("n_origins", "refit_every"):
        assert listed["ethusdt_4h"]["backtest"][key] == intraday["backtest"][key]


def test_a_long_list_is_checked_for_repeats_in_one_pass(monkeypatch):
    # pairs.count(p) for every pair compared each pair with every other: 250,000
    # comparisons for 500 pairs, at every read of the parameters.
    compared = []
    equal = Pair.__eq__

    def counting(self, other):
        compared.append(other)
        return equal(self, other)

    monkeypatch.setattr(Pair, "__eq__", counting)
    symbols = [f"S{i:04d}USDT" for i in range(300)]
    assert len(listed_pairs({"pairs": {"symbols": symbols, "intervals": ["1d"]}})) == 300
    assert len(compared) < 1000
    with pytest.raises(ValueError, match=r"\['s0001usdt_1d'\] listed twice"):
        listed_pairs({"pairs": {"symbols": [*symbols, "S0001USDT"], "intervals": ["1d"]}})
