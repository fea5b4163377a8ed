"""The forecast's quantile function: levels checked, Value-at-Risk and Expected Shortfall."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cryptopythia.model.quantiles import (
    QuantileFunction,
    check_levels,
    coverage_grid,
    quantile_column,
    risk_table,
    value_at_risk,
)


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_var_and_es_of_a_normal_log_return_match_the_closed_form(level):
    """A log return N(mu, sigma^2): VaR = z sigma - mu, ES = sigma phi(z) / (1 - level) - mu."""
    mu, sigma = 0.002, 0.031
    z = stats.norm.ppf(level)
    var, es = value_at_risk(mu, lambda c: sigma * stats.norm.ppf((1 + c) / 2), level)
    assert var == pytest.approx(z * sigma - mu, rel=1e-12)
    assert es == pytest.approx(sigma * stats.norm.pdf(z) / (1 - level) - mu, rel=2e-3)
    assert es > var


def test_risk_table_reads_the_step_one_quantile_function():
    """On a grid fine in the tail, the step-1 radii of a normal sigma give the closed form."""
    sigma = np.array([0.02, 0.03])
    coverages = np.unique(np.r_[coverage_grid(), 1 - np.geomspace(1e-6, 0.01, 400)])
    coverages = coverages[coverages < 1]
    z = stats.norm.ppf((1 + coverages) / 2)
    function = QuantileFunction(coverages, z[:, None] * sigma[None, :])
    rows = risk_table(function, forecast_close=101.0, last_close=100.0, levels=[0.95, 0.99])
    mu = np.log(1.01)
    for row, level in zip(rows, [0.95, 0.99], strict=True):
        zl = stats.norm.ppf(level)
        assert row["level"] == level and row["forecast_log_return"] == pytest.approx(mu)
        assert row["value_at_risk"] == pytest.approx(zl * 0.02 - mu, rel=1e-4)
        es = 0.02 * stats.norm.pdf(zl) / (1 - level) - mu
        assert row["expected_shortfall"] == pytest.approx(es, rel=5e-3)


def test_levels_are_checked_with_the_reason():
    assert check_levels([0.05, 0.5, 0.99], 3) == [0.05, 0.5, 0.99]
    assert check_levels(None, 3) == []
    for levels, reason in [
        ([0.0], "not strictly between 0 and 1"),
        ([1.0], "not strictly between 0 and 1"),
        ([float("nan")], "not strictly between 0 and 1"),
        (["0.1"], "not a number"),
        ([True], "not a number"),
        ([0.2, 0.2], "asked for twice"),
        ([0.1, 0.2, 0.3, 0.4], "holds 4 levels; at most 3"),
        ("0.5", "not a list of levels"),
        (0.5, "not a list of levels"),
    ]:
        with pytest.raises(ValueError, match=reason):
            check_levels(levels, 3)


def test_columns_name_the_level_as_a_float():
    assert quantile_column(0.05) == "quantile_0.05"
    assert quantile_column(1e-3) == "quantile_0.001"
    assert quantile_column(np.float64(0.99)) == "quantile_0.99"
