"""The monitoring report: one plotly figure, three charts sharing the time axis - the
step-1 forecasts and their bands against the realised closes, the rolling coverage with
the band a calibrated model stays in, the interval score against the EWMA random walk's."""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy import stats

from .realised import coverages_of

CHARTS = (
    "Step-1 forecasts and intervals against the realised close",
    "Rolling coverage (shaded: where a calibrated model stays 95% of the time)",
    "Rolling interval score / EWMA random walk's (below 1: sharper and calibrated)",
)


def acceptance_band(coverage: float, n: int) -> tuple[float, float]:
    """The share of hits inside which a calibrated interval's coverage over ``n`` origins
    falls 95% of the time (binomial quantiles)."""
    return (
        float(stats.binom.ppf(0.025, n, coverage) / n),
        float(stats.binom.ppf(0.975, n, coverage) / n),
    )


def monitoring_figure(
    realised: pd.DataFrame, rolling: pd.DataFrame, report: dict[str, Any], symbol: str
) -> Any:
    """The report's figure (plotly.graph_objects.Figure)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    window = int(report["status_rule"]["window"])
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, subplot_titles=CHARTS)
    step_one = realised[realised["step"] == 1].sort_values("origin")
    coverages = coverages_of(step_one)
    for (name, version), rows in step_one.groupby(["model_name", "model_version"]):
        label = f"{name} v{version}"
        for coverage in reversed(coverages):
            figure.add_trace(
                go.Scatter(
                    x=pd.concat([rows["target_time"], rows["target_time"][::-1]]),
                    y=pd.concat([rows[f"upper_{coverage}"], rows[f"lower_{coverage}"][::-1]]),
                    fill="toself",
                    opacity=0.25,
                    line={"width": 0},
                    name=f"{label} {coverage}%",
                ),
                row=1,
                col=1,
            )
        figure.add_trace(
            go.Scatter(x=rows["target_time"], y=rows["forecast_close"], name=f"{label} forecast"),
            row=1,
            col=1,
        )
    actual = step_one.drop_duplicates("target_time")
    figure.add_trace(
        go.Scatter(
            x=actual["target_time"], y=actual["actual"], name="close", line={"color": "black"}
        ),
        row=1,
        col=1,
    )
    for coverage in coverages:
        low, high = acceptance_band(int(coverage) / 100, window)
        figure.add_hrect(y0=low, y1=high, opacity=0.12, line_width=0, row=2, col=1)
    # the rolling scores are drawn at their last forecast's target candle, as chart 1 is
    target_of = dict(zip(step_one["origin"], step_one["target_time"], strict=False))
    for (name, version), rows in rolling.groupby(["model_name", "model_version"]):
        when = rows["origin"].map(target_of)
        for coverage in coverages:
            figure.add_trace(
                go.Scatter(
                    x=when,
                    y=rows[f"coverage_{coverage}"],
                    name=f"{name} v{version} {coverage}% coverage",
                ),
                row=2,
                col=1,
            )
            figure.add_trace(
                go.Scatter(
                    x=when,
                    y=rows[f"interval_score_ratio_{coverage}"],
                    name=f"{name} v{version} {coverage}% score ratio",
                ),
                row=3,
                col=1,
            )
    figure.add_hline(y=1.0, line_dash="dot", row=3, col=1)
    statuses = ", ".join(f"v{v['model_version']}: {v['status']}" for v in report["versions"])
    figure.update_layout(
        title=f"{symbol} monitoring, last {window} origins per point - {statuses}",
        height=1000,
        template="plotly_white",
    )
    return figure
