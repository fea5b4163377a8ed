"""Every pair's datasets: the single-pair catalog entries, made per pair by the config
loader, in every environment (conf/team's ledger, conf/cluster's object store)."""

from __future__ import annotations

import copy

import pytest
from kedro.io.catalog_config_resolver import CatalogConfigResolver

from cryptopythia.pairs import PairsConfigLoader
from cryptopythia.settings import CONFIG_LOADER_ARGS

PAIR = "ethusdt_1d"
SHARED = {"binance_client"}  # one Binance client (one rate limit) for every pair
CREDENTIALS = {"forecast_ledger": {"con": "postgresql://ledger@db/forecasts"}}


def catalog(project, env: str) -> dict:
    return PairsConfigLoader(
        conf_source=str(project / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": env}
    )["catalog"]


def single_pair_entries(config: dict) -> dict:
    return {
        name: entry
        for name, entry in config.items()
        if "{" not in name
        and name not in SHARED
        and not name.startswith("pairs_")  # the tables across pairs
    }


def as_single(entry: dict) -> dict:
    """A resolved pair entry with its pair-specific parts taken out again."""
    entry = copy.deepcopy(entry)
    for level in (entry, entry.get("dataset")):
        if isinstance(level, dict) and "filepath" in level:
            assert f"/pairs/{PAIR}/" in level["filepath"], level["filepath"]
            level["filepath"] = level["filepath"].replace(f"/pairs/{PAIR}/", "/")
    if "artifact_path" in entry:
        assert entry["artifact_path"].startswith(f"{PAIR}/"), entry["artifact_path"]
        entry["artifact_path"] = entry["artifact_path"].removeprefix(f"{PAIR}/")
    if "prefix" in entry:
        assert entry["prefix"].startswith(f"{PAIR}."), entry["prefix"]
        entry["prefix"] = entry["prefix"].removeprefix(f"{PAIR}.")
    return entry


@pytest.mark.parametrize("env", ["local", "team", "cluster"])
def test_every_single_pair_dataset_has_its_pair_copy(kedro_project, env):
    config = catalog(kedro_project, env)
    resolver = CatalogConfigResolver(config, CREDENTIALS)
    single = single_pair_entries(config)
    assert {"bronze", "silver", "gold", "modelling_report", "forecast_ledger"} <= set(single)
    for name in single:
        assert resolver.match_dataset_pattern(f"{PAIR}.{name}"), f"no entry for {PAIR}.{name}"
        assert as_single(resolver.resolve_pattern(f"{PAIR}.{name}")) == resolver.resolve_pattern(
            name
        ), name
    assert resolver.match_dataset_pattern(f"{PAIR}.binance_client") is None  # one, shared


def test_the_pair_paths_artifacts_and_metrics(kedro_project):
    resolver = CatalogConfigResolver(catalog(kedro_project, "local"), CREDENTIALS)
    entry = resolver.resolve_pattern
    assert entry(f"{PAIR}.bronze")["filepath"] == f"data/01_raw/pairs/{PAIR}/bronze.csv"
    assert entry(f"{PAIR}.bronze_previous")["allow_missing"] is True
    report = entry(f"{PAIR}.modelling_report")
    assert report["dataset"]["filepath"] == f"data/08_reporting/pairs/{PAIR}/metrics.json"
    assert report["artifact_path"] == f"{PAIR}/reporting"
    assert entry(f"{PAIR}.backtest_metrics_mlflow")["prefix"] == f"{PAIR}.backtest"
    ledger = entry(f"{PAIR}.forecast_ledger")
    assert ledger["credentials"] == {"con": "sqlite:///forecast_ledger.db"}  # one table
    team = CatalogConfigResolver(catalog(kedro_project, "team"), CREDENTIALS)
    assert (
        team.resolve_pattern(f"{PAIR}.forecast_ledger")["credentials"]
        == (CREDENTIALS["forecast_ledger"])
    )
    cluster = CatalogConfigResolver(catalog(kedro_project, "cluster"), CREDENTIALS)
    assert cluster.resolve_pattern(f"{PAIR}.silver")["filepath"] == (
        f"s3://cryptopythia-data/data/02_intermediate/pairs/{PAIR}/silver.csv"
    )


def test_a_dataset_added_to_a_single_pair_catalog_gets_its_pair_copy(kedro_project):
    # Nothing to keep in step by hand: a new single-pair entry is every pair's at once, and
    # a pair entry written by hand wins.
    extra = kedro_project / "conf" / "local" / "catalog_extra.yml"
    extra.write_text(
        "volume_profile:\n"
        "  type: cryptopythia.datasets.MlflowArtifactDataset\n"
        "  artifact_path: profiles\n"
        "  dataset:\n"
        "    type: pandas.CSVDataset\n"
        "    filepath: data/04_feature/volume_profile.csv\n"
        "    save_args: {index: false}\n"
        "'{pair}.silver':\n"
        "  type: pandas.CSVDataset\n"
        "  filepath: elsewhere/{pair}.csv\n"
    )
    resolver = CatalogConfigResolver(catalog(kedro_project, "local"), CREDENTIALS)
    assert resolver.resolve_pattern(f"{PAIR}.volume_profile") == {
        "type": "cryptopythia.datasets.MlflowArtifactDataset",
        "artifact_path": f"{PAIR}/profiles",
        "dataset": {
            "type": "pandas.CSVDataset",
            "filepath": f"data/04_feature/pairs/{PAIR}/volume_profile.csv",
            "save_args": {"index": False},
        },
    }
    assert resolver.resolve_pattern(f"{PAIR}.silver") == {
        "type": "pandas.CSVDataset",
        "filepath": f"elsewhere/{PAIR}.csv",
    }
    # A factory would format braces with the matched name: refused, with the fix.
    extra.write_text(
        "volume_profile:\n"
        "  type: pandas.CSVDataset\n"
        "  filepath: data/04_feature/volume_profile.csv\n"
        "  save_args: {float_format: '{:.3f}'}\n"
    )
    with pytest.raises(ValueError, match=r"'volume_profile' has braces.*catalog_pairs.yml"):
        catalog(kedro_project, "local")
