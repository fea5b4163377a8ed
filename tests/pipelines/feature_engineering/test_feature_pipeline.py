"""`kedro run --pipeline feature_engineering` end to end, for 1d (base) and 4h (intraday) candles."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptopythia.datasets import CandleCSVDataset
from cryptopythia.features import build_gold
from cryptopythia.pipeline_registry import TRAINING_STAGES
from cryptopythia.pipelines.feature_engineering import create_pipeline

from conftest import run_kedro  # tests/conftest.py
from support.feature_candles import base_params, generated_silver, real_silver

pytestmark = pytest.mark.slow


def _dataset(project, name: str) -> CandleCSVDataset:
    layer = {"silver": "02_intermediate", "gold": "03_primary"}[name]
    return CandleCSVDataset(
        filepath=str(project / "data" / layer / f"{name}.csv"),
        datetime_columns=["open_time", "close_time"],
    )


def test_pipeline_wires_silver_to_gold_and_is_a_training_stage():
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "silver",
        "params:feature_engineering",
        "params:data_engineering.interval",
    }
    assert pipeline.outputs() == {"gold"}
    assert TRAINING_STAGES[:2] == ("data_engineering", "feature_engineering")


@pytest.mark.parametrize(("env", "interval"), [(None, "1d"), ("intraday", "4h")])
def test_kedro_run_writes_gold(kedro_project, env, interval):
    silver = real_silver(interval)
    _dataset(kedro_project, "silver").save(silver)

    run_kedro(kedro_project, "feature_engineering", env=env)

    gold = _dataset(kedro_project, "gold").load()
    expected = build_gold(_dataset(kedro_project, "silver").load(), base_params(), interval)
    pd.testing.assert_frame_equal(gold, expected, check_exact=False, rtol=1e-12)
    assert ("hour_sin" in gold.columns) == (interval == "4h")
    assert gold["open_time"].iloc[0] == silver["open_time"].iloc[64]
    assert len(gold) == len(silver) - 64


def test_kedro_run_reports_a_bad_window(kedro_project):
    _dataset(kedro_project, "silver").save(generated_silver(200))
    with pytest.raises(ValueError, match=r"feature_engineering.rsi.window=0 is invalid"):
        run_kedro(
            kedro_project, "feature_engineering", params={"feature_engineering.rsi.window": 0}
        )
