"""One source of the allowed values: the parameter schemas' choices are the values the
model and backtest code accepts, every map from a choice covers it, and a wrong value is
named with the allowed ones by the schema."""

from __future__ import annotations

import typing

import pytest
import yaml

from cryptopythia.backtest.origins import Retrain, Window
from cryptopythia.model import choices
from cryptopythia.model.scaling import SCALERS
from cryptopythia.model.volatility import MODELS
from cryptopythia.parameter_schemas import Backtest, Intervals, Modelling
from cryptopythia.parameters import check_parameters

from conftest import PROJECT_ROOT


def schema_values(schema: type, field: str) -> tuple:
    """The values a schema's Literal field allows, read from the schema itself."""
    return typing.get_args(schema.model_fields[field].annotation)


@pytest.mark.parametrize(
    ("schema", "field", "alias"),
    [
        (Modelling, "inputs", choices.Inputs),
        (Modelling, "target", choices.Target),
        (Modelling, "scaler", choices.Scaler),
        (Modelling, "precision", choices.Precision),
        (Intervals, "volatility", choices.Volatility),
        (Intervals, "har_range_estimator", choices.RangeEstimator),
        (Backtest, "window", Window),
        (Backtest, "retrain", Retrain),
    ],
)
def test_every_schema_choice_is_the_alias_the_code_reads(schema, field, alias):
    assert schema_values(schema, field) == choices.allowed(alias)
    assert schema_values(schema, field), f"{schema.__name__}.{field} is no Literal"


def test_the_implementation_maps_cover_the_schema_choices_exactly():
    assert tuple(SCALERS) == schema_values(Modelling, "scaler")
    assert tuple(MODELS) == schema_values(Intervals, "volatility")


def test_a_map_that_misses_or_adds_a_choice_is_refused():
    with pytest.raises(ValueError, match=r"does not cover the allowed values"):
        choices.covering(choices.Scaler, {"minmax": object, "standard": object})
    with pytest.raises(ValueError, match=r"does not cover the allowed values"):
        choices.covering(choices.Target, {v: 1 for v in (*choices.allowed(choices.Target), "x")})


def backtest_parameters() -> dict:
    path = PROJECT_ROOT / "conf/base/parameters_backtest.yml"
    return yaml.safe_load(path.read_text())["backtest"]


@pytest.mark.parametrize(
    ("key", "value", "wrong"),
    [
        ("window", "rolling", r"backtest.window='rolling': .*'expanding' or 'sliding'"),
        ("retrain", "partial", r"backtest.retrain='partial': .*'full' or 'finetune'"),
        ("refit_every", 0, r"backtest.refit_every=0: .*greater than or equal to 1"),
    ],
)
def test_a_wrong_backtest_choice_is_named_by_the_schema(key, value, wrong):
    with pytest.raises(ValueError, match=wrong):
        check_parameters({"backtest": {**backtest_parameters(), key: value}}, {"backtest"})
