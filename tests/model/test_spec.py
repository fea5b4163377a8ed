"""The window spec is a typed, frozen ModelSpec that round-trips through the dicts it is
stored as, and a Forecaster is stored and rebuilt in one place (to_artifacts /
from_artifacts), the registry's and the served model's stores included."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from cryptopythia.datasets import ModelSpecDataset
from cryptopythia.model.forecaster import Forecaster, forecast
from cryptopythia.model.spec import ModelSpec
from cryptopythia.model.table import prepare_model_table

from support.forecasters import make_forecaster, make_silver
from support.modelling import PARAMS, UNITS, make_gold


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    return prepare_model_table(make_gold(400), PARAMS, UNITS)[1]


def test_the_spec_is_typed_and_frozen(spec):
    assert isinstance(spec, ModelSpec)
    assert isinstance(spec.scaler_columns, tuple) and spec.scaler_columns[-1] == spec.target_column
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.horizon = 99


def test_the_spec_round_trips_through_json_and_mlflows_yaml(spec):
    stored = spec.to_dict()
    assert sorted(stored) == sorted(field.name for field in dataclasses.fields(ModelSpec))
    assert ModelSpec.from_dict(json.loads(json.dumps(stored))) == spec
    assert ModelSpec.from_dict(yaml.safe_load(yaml.safe_dump(stored))) == spec  # MLmodel


def test_a_metadata_dict_registered_before_the_typed_spec_still_loads(spec):
    """A registered network's metadata: the spec's 12 keys beside the forecaster's other
    settings, written as a plain dict (lists, not tuples) and read back from YAML."""
    old = {
        **{key: list(v) if isinstance(v, tuple) else v for key, v in vars(spec).items()},
        "feature_params": {"windows": [7]},
        "shrinkage": [0.5, 0.25, 0.0],
        "intervals": {"volatility": "garch"},
        "garch": {"omega": 0.1},  # the volatility parameters' key before volatility_params
        "run_name": "old-run",
        "model_output": "scaled target, see spec",
    }
    assert ModelSpec.from_dict(yaml.safe_load(yaml.safe_dump(old))) == spec
    missing = {key: value for key, value in old.items() if key != "volume_window"}
    with pytest.raises(ValueError, match=r"lacks \['volume_window'\]"):
        ModelSpec.from_dict(missing)


def test_the_window_spec_dataset_saves_json_and_loads_the_spec(spec, tmp_path):
    dataset = ModelSpecDataset(filepath=str(tmp_path / "window_spec.json"))
    dataset.save(spec)
    assert json.loads((tmp_path / "window_spec.json").read_text()) == spec.to_dict()
    assert dataset.load() == spec


@pytest.fixture(scope="module")
def forecaster_and_candles() -> tuple[Forecaster, pd.DataFrame]:
    silver = make_silver(400)
    # non-zero weights: the network's moves are in the forecast (all-zero weights would
    # give the last close whatever network and scaler were rebuilt)
    return make_forecaster(silver, shrinkage=[0.9, 0.6, 0.3]), silver


def test_a_forecaster_rebuilt_from_its_artifacts_forecasts_the_same(forecaster_and_candles):
    forecaster, silver = forecaster_and_candles
    network, scaler, metadata = forecaster.to_artifacts()
    stored = yaml.safe_load(yaml.safe_dump(metadata))  # as MLflow stores the metadata
    rebuilt = Forecaster.from_artifacts(network, scaler, stored)
    assert rebuilt.spec == forecaster.spec and rebuilt.interval == forecaster.interval
    assert rebuilt.volatility_params == forecaster.volatility_params
    expected = forecast(silver, forecaster, 5, [0.1, 0.9])
    pd.testing.assert_frame_equal(forecast(silver, rebuilt, 5, [0.1, 0.9]), expected)
    naive = forecast(
        silver, Forecaster.from_artifacts(network, scaler, {**stored, "shrinkage": [0.0] * 3}), 3
    )
    assert not np.allclose(expected["forecast_close"].iloc[:3], naive["forecast_close"])


def test_the_served_models_older_config_still_rebuilds(forecaster_and_candles):
    """A served model logged before to_artifacts: its config.json kept the spec under
    "spec" and the volatility parameters as "garch", beside the request limits."""
    forecaster, silver = forecaster_and_candles
    network, scaler, metadata = forecaster.to_artifacts()
    spec_keys = forecaster.spec.to_dict()
    config = {key: value for key, value in metadata.items() if key not in spec_keys}
    config = {
        **{key: value for key, value in config.items() if key != "volatility_params"},
        "spec": spec_keys,
        "interval": forecaster.interval,
        "garch": metadata["volatility_params"],
        "max_horizon": 30,
    }
    rebuilt = Forecaster.from_artifacts(network, scaler, json.loads(json.dumps(config)))
    assert rebuilt.spec == forecaster.spec
    assert rebuilt.volatility_params == forecaster.volatility_params
    pd.testing.assert_frame_equal(forecast(silver, rebuilt, 2), forecast(silver, forecaster, 2))
