"""The Labels page's figures: accuracy against the number of labels per method, and the encoder's map of the test
digits coloured by the digit it never saw."""

from __future__ import annotations

import plotly.graph_objects as go

from core.figures.style import ACCENT, MUTED, accuracy_layout
from core.i18n import _
from core.labels import METHODS

COLOURS = {"scratch": MUTED, "linear": "#4da3ff", "fixmatch": "#ffbd45", "propagate": ACCENT}
DIGIT_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)  # fmt: skip  (Tableau 10: ten colours told apart on a projector)


def labels_curve(curve: dict[str, list[tuple[int, float]]], own: list[tuple[int, float, str]]) -> go.Figure:
    """Median test accuracy against labels (log axis) per method, and the visitor's runs (labels, accuracy, method)
    as stars."""
    figure = go.Figure()
    for method, points in curve.items():
        figure.add_trace(
            go.Scatter(
                x=[labels for labels, _accuracy in points],
                y=[accuracy for _labels, accuracy in points],
                mode="lines+markers",
                name=_(METHODS[method]),
                line={"color": COLOURS[method]},
                hovertemplate=_("%{x} labels: %{y:.1%}") + "<extra></extra>",
            )
        )
    for labels, accuracy, method in own:
        figure.add_trace(
            go.Scatter(
                x=[labels],
                y=[accuracy],
                mode="markers",
                name=_("your run"),
                showlegend=False,
                marker={"symbol": "star", "size": 16, "color": COLOURS.get(method, ACCENT), "line": {"width": 1}},
                hovertemplate=_("your {labels} labels: %{{y:.1%}}").format(labels=labels) + "<extra></extra>",
            )
        )
    figure.update_xaxes(type="log")
    return accuracy_layout(figure, _("labelled digits (log scale)"), _("test accuracy"), height=360)


def feature_map(xy: list[list[float]], digits: list[int]) -> go.Figure:
    """The test digits placed by t-SNE of the encoder's features, coloured by their true digit."""
    figure = go.Figure()
    for digit in range(10):
        rows = [point for point, shown in zip(xy, digits, strict=True) if shown == digit]
        figure.add_trace(
            go.Scattergl(
                x=[x for x, _y in rows],
                y=[y for _x, y in rows],
                mode="markers",
                name=str(digit),
                marker={"size": 5, "color": DIGIT_COLOURS[digit], "opacity": 0.8},
                hovertemplate=_("a {digit}").format(digit=digit) + "<extra></extra>",
            )
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x")
    figure.update_layout(
        height=440, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"title": {"text": _("true digit")}}
    )
    return figure
