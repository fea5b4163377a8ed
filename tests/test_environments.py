"""The conf environments as Kedro merges them: `offline_intraday` is the 4-hour recipe of
`intraday` read from the shipped 4h snapshot, not daily settings on 4-hour candles."""

from __future__ import annotations

from cryptopythia.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

from conftest import PROJECT_ROOT


def parameters(env: str) -> dict:
    """The parameters of a run with ``--env env``, merged as the project's settings say."""
    loader = CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS
    )
    return loader["parameters"]


def test_offline_intraday_runs_the_intraday_recipe_on_the_4h_snapshot():
    offline_4h, intraday, base = (
        parameters(env) for env in ("offline_intraday", "intraday", "base")
    )
    for section in ("modelling", "backtest"):
        assert offline_4h[section] == intraday[section]
    assert offline_4h["modelling"] != base["modelling"]  # horizon 6, har_range, 4h HAR lags
    source = offline_4h["data_engineering"]
    assert source["source"] == "dump" and source["interval"] == "4h"
    assert (PROJECT_ROOT / source["dump_path"]).name == "btcusdt_4h.csv.gz"
