"""How far to trust a model: accuracy by slice of handwriting, reliability, confidence, and the stress test."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import ACCENT, ATTACKED, MUTED
from core.i18n import N_, _


def slice_figure(group: list, *, overall: float, worst_label: str) -> go.Figure:
    """Error rate of each slice (core.pictures.slices.Slice) with its 95% interval; all digits' as a line.

    Errors, on an axis from 0: a bar's length is its share of mistakes, so a slice misread twice as often has a bar
    twice as long (accuracy on an axis cut at 98% made a 0.3-point gap look like half a bar).
    """
    labels = [str(s.label) for s in group]
    errors = np.array([1 - s.accuracy for s in group])
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=errors,
            marker_color=[ACCENT if label == worst_label else MUTED for label in labels],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [s.accuracy - s.interval[0] for s in group],  # the accuracy's lower bound: most errors
                "arrayminus": [s.interval[1] - s.accuracy for s in group],
            },
            customdata=[[s.count, s.count - s.correct, 1 - s.interval[1], 1 - s.interval[0]] for s in group],
            hovertemplate=_(
                "%{x}: %{y:.2%} misread, %{customdata[1]} of %{customdata[0]:,} "
                "(95%: %{customdata[2]:.2%}–%{customdata[3]:.2%})<extra>click to see them</extra>"
            ),
        )
    )
    figure.add_hline(
        y=1 - overall,
        line={"color": ATTACKED, "dash": "dash"},
        annotation_text=_("all digits {value:.2%}").format(value=1 - overall),
    )
    high = max(1 - s.interval[0] for s in group) * 1.1
    figure.update_layout(
        yaxis={"tickformat": ".1%", "range": [0, high], "title": _("misread (lower is better)")},
        height=340,
        dragmode=False,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        clickmode="event+select",
    )
    return figure


def reliability_figure(before, after) -> go.Figure:
    """Reliability diagram (core.calibration.Reliability before and after temperature scaling) and the diagonal."""
    figure = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=_("perfectly calibrated"),
            line={"color": MUTED, "dash": "dot"},
            hoverinfo="skip",
        )
    )
    for name, table, colour in ((N_("before"), before, MUTED), (N_("after temperature scaling"), after, ACCENT)):
        used = table.counts > 0
        counts = table.counts[used]
        labelled = name != "before"  # one trace's counts written by its points: the two are close
        name = _(name)
        figure.add_trace(
            go.Scatter(
                x=table.confidence[used],
                y=table.accuracy[used],
                mode="lines+markers+text" if labelled else "lines+markers",
                name=name,
                line={"color": colour},
                # a bin's point as large as the square root of its digits: a nearly empty bin's spike looks small
                marker={"size": 5 + 20 * np.sqrt(counts / counts.max())},
                text=[f"{count:,}" for count in counts] if labelled else None,
                textposition="bottom right",
                textfont={"size": 11},
                customdata=counts,
                hovertemplate=_("sure %{x:.1%}: right %{y:.1%} of %{customdata:,} digits") + f"<extra>{name}</extra>",
            )
        )
    figure.update_layout(
        xaxis={"title": _("how sure it was (mean in each bin; numbers: digits in the bin)"), "tickformat": ".0%"},
        yaxis={"title": _("how often it was right"), "tickformat": ".0%"},
        height=360,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )
    return figure


def confidence_histogram(probabilities: np.ndarray, labels: np.ndarray) -> go.Figure:
    """How sure the network was, for the digits it read right and for those it read wrong (shares of each).

    Binned here: 20 bars per group travel to the browser, not 10,000 values.
    """
    confidence, right = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, 21)
    figure = go.Figure()
    for name, chosen, colour in ((_("read right"), right, MUTED), (_("read wrong"), ~right, ACCENT)):
        counts, __ = np.histogram(confidence[chosen], bins=edges)
        shares = counts / max(chosen.sum(), 1)
        figure.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=shares,
                width=0.05,
                name=f"{name} ({chosen.sum():,})",
                marker_color=colour,
                opacity=0.75,
                hovertemplate=_("sure %{x:.0%}: %{y:.1%} of the group<extra></extra>"),
            )
        )
    figure.update_layout(
        barmode="overlay",
        xaxis={"title": _("top probability"), "tickformat": ".0%"},
        yaxis={"title": _("share of the group"), "tickformat": ".0%"},
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def shift_figure(curves: dict[str, dict[str, np.ndarray]], shifts: dict) -> go.Figure:
    """Accuracy against the strength of each shift (core.shift.SHIFTS): a panel per shift, a line per model."""
    from plotly.subplots import make_subplots  # noqa: PLC0415 - only the Evaluate page's stress test needs it

    names = list(shifts)
    figure = make_subplots(rows=2, cols=3, subplot_titles=names, vertical_spacing=0.18, horizontal_spacing=0.06)
    for index, (model, by_shift) in enumerate(curves.items()):
        for panel, name in enumerate(names):
            strengths, unit = shifts[name]
            order = np.argsort(strengths) if name != "scale" else np.argsort(strengths)[::-1]
            figure.add_trace(
                go.Scatter(
                    x=[f"{strengths[i]:g}{unit}" for i in order],
                    y=by_shift[name][order],
                    mode="lines+markers",
                    name=model,
                    legendgroup=model,
                    showlegend=panel == 0,
                    line={"color": ACCENT if index == 0 else MUTED, "dash": "solid" if index == 0 else "dash"},
                    hovertemplate=_("{name} %{{x}}: %{{y:.1%}}<extra>{model}</extra>").format(name=name, model=model),
                ),
                row=panel // 3 + 1,
                col=panel % 3 + 1,
            )
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    figure.update_layout(
        height=520,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
    )
    return figure
