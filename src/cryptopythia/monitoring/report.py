"""The monitoring report: one plotly figure, three charts sharing the time axis - the
step-1 forecasts and their bands against the realised closes, the rolling coverage with
the band a calibrated model stays in, the interval score against the EWMA random walk's.

Every chart is drawn over the target candle's open time: a forecast at the candle it
forecast, a rolling score at the target candle of the last forecast in its window (the
MLflow metrics of the same scores are stepped by origin instead)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy import stats

from .realised import coverages_of

CHARTS = (
    "Step-1 forecasts and intervals against the realised close, at each target candle",
    "Rolling coverage, at each window's last target candle (shaded: a calibrated model's 95% range)",
    "Rolling interval score / EWMA random walk's, at each window's last target (below 1: better)",
)
TIME_AXIS = "target candle (open time, UTC)"


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
    for (name, version), rows in rolling.groupby(["model_name", "model_version"]):
        when = pd.to_datetime(rows["target_time"], utc=True)
        for coverage in coverages:
            # the band of each point's own window: fewer origins at a version's start
            bands = [acceptance_band(int(coverage) / 100, int(n)) for n in rows["n"]]
            figure.add_trace(
                go.Scatter(
                    x=pd.concat([when, when[::-1]]),
                    y=[high for _, high in bands] + [low for low, _ in bands][::-1],
                    fill="toself",
                    fillcolor="rgba(90, 90, 90, 0.12)",  # the two coverages' overlap darker
                    line={"width": 0},
                    name=f"{name} v{version} {coverage}% calibrated band",
                ),
                row=2,
                col=1,
            )
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
    figure.update_xaxes(title_text=TIME_AXIS, row=3, col=1)
    figure.update_layout(
        title=f"{symbol} monitoring, up to the last {window} origins per point - {statuses}",
        height=1000,
        template="plotly_white",
    )
    return figure
