"""Scale's figure: test error or loss against parameters, training digits or compute, on log-log axes, with the law
fitted along the axis, the rest of the sweep behind it, other architectures and the visitor's own runs."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import ACCENT, ATTACKED, MUTED
from core.i18n import N_, _
from core.scale import Sweep, Trend

AXES = {"parameters": N_("parameters"), "digits": N_("training digits"), "flops": N_("training compute (FLOPs)")}
METRICS = {"error": (N_("test error"), ".1%"), "loss": (N_("test loss"), ".2f")}
OTHERS = "#4da3ff"  # other architectures


def law_text(trend: Trend) -> str:
    """e.g. "error ≈ 3.1·x^−0.52 + 0.61%, α 0.52 (0.45–0.60)"."""
    floor = f"{trend.law.c:.2%}" if trend.metric == "error" else f"{trend.law.c:.3f}"
    low, high = trend.interval
    law = f"{trend.metric} ≈ {trend.law.a:.3g}·x^−{trend.law.alpha:.2f} + {floor}"
    return f"{law}; α {trend.law.alpha:.2f} ({low:.2f}–{high:.2f})"


def _background(sweep: Sweep, trend: Trend) -> list[go.Scatter]:
    """The rest of the sweep, faint: a line per data size (against parameters), per width (against digits), or
    every run as a dot (against compute)."""
    if trend.axis == "flops":
        runs = sweep.runs
        return [
            go.Scatter(
                x=[run["flops"] for run in runs],
                y=[run[trend.metric] for run in runs],
                mode="markers",
                name=_("every run of the sweep"),
                marker={"color": MUTED, "size": 6, "opacity": 0.5},
                customdata=[[run["width"], run["digits"]] for run in runs],
                hovertemplate=_("width %{customdata[0]}, %{customdata[1]:,} digits: %{y}<extra></extra>"),
            )
        ]
    group = "digits" if trend.axis == "parameters" else "width"
    traces = []
    for value in sorted({run[group] for run in sweep.runs}):
        runs = sorted((run for run in sweep.runs if run[group] == value), key=lambda run: run[trend.axis])
        label = (
            _("{count:,} digits").format(count=value) if group == "digits" else _("width {width}").format(width=value)
        )
        traces.append(
            go.Scatter(
                x=[run[trend.axis] for run in runs],
                y=[run[trend.metric] for run in runs],
                mode="lines+markers",
                name=label,
                line={"color": MUTED, "width": 1},
                marker={"size": 4},
                opacity=0.45,
                showlegend=False,
                hovertemplate=_("{label}: %{{x:,.3s}}, %{{y}}<extra></extra>").format(label=label),
            )
        )
    return traces


def scale_chart(
    sweep: Sweep,
    trend: Trend,
    *,
    others: list[tuple[str, float, float]] = (),
    yours: list[tuple[str, float, float]] = (),
    height: int = 380,
    projector: bool = False,
) -> go.Figure:
    """`others` and `yours`: (name, x, y) points placed on the axes. `projector`: ticks, titles and legend read
    from the back of a hall (16 px), the legend beside the chart, which is short there."""
    title, tick = METRICS[trend.metric]
    title = _(title)
    figure = go.Figure(_background(sweep, trend))
    span = np.geomspace(min(trend.x), max(trend.x), 60)
    figure.add_trace(
        go.Scatter(
            x=span,
            y=trend.law(span),
            mode="lines",
            name=_("fitted: α {alpha:.2f} ({interval:.2f}–{interval2:.2f})").format(
                alpha=trend.law.alpha, interval=trend.interval[0], interval2=trend.interval[1]
            ),
            line={"color": ACCENT, "width": 3},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=trend.x,
            y=trend.y,
            mode="markers",
            name=str(trend.held),
            marker={"color": ACCENT, "size": 10},
            hovertemplate=_("%{{x:,.3s}}: {title} %{{y:{tick}}}<extra></extra>").format(title=title, tick=tick),
        )
    )
    if trend.law.c > 0:  # a trace, not add_hline: its annotation lands at 10^c on a log axis
        figure.add_trace(
            go.Scatter(
                x=[span[0], span[-1]],
                y=[trend.law.c, trend.law.c],
                mode="lines",
                name=_("where it levels off: {value}").format(value=f"{trend.law.c:{tick}}"),
                line={"dash": "dot", "color": MUTED},
                hoverinfo="skip",
            )
        )
    for points, name, colour, symbol in (
        (others, _("other architectures"), OTHERS, "diamond"),
        (yours, "yours", ATTACKED, "star"),
    ):
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[x for __, x, ___ in points],
                    y=[y for __, ___, y in points],
                    mode="markers+text",
                    text=[label for label, __, ___ in points],
                    textposition="middle right",  # RNN and Transformer are close in parameters
                    name=name,
                    marker={"color": colour, "size": 14, "symbol": symbol},
                    hovertemplate=_("%{{text}}: %{{x:,.3s}}, {title} %{{y:{tick}}}<extra></extra>").format(
                        title=title, tick=tick
                    ),
                )
            )
    figure.update_layout(
        xaxis={"title": _(AXES[trend.axis]), "type": "log", "dtick": "D2"},
        yaxis={
            "title": _("{metric} (log)").format(metric=title),
            "type": "log",
            "tickformat": tick,
            "dtick": "D2",
        },  # 1, 2, 5 a decade
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22},
    )
    if projector:
        big = {"size": 16}
        figure.update_layout(
            font=big,
            legend={"orientation": "v", "x": 1.01, "y": 1, "yanchor": "top", "font": big},
            xaxis={"tickfont": big, "title_font": big},
            yaxis={"tickfont": big, "title_font": big},
        )
    return figure
