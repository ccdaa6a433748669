"""Privacy's figures: accuracy against ε, and the membership attack's ROC."""

from __future__ import annotations

import plotly.graph_objects as go

from core.figures.style import ACCENT, ATTACKED, MUTED
from core.i18n import _


def accuracy_by_epsilon(sweep: dict | None, yours: list[tuple[float, float]]) -> go.Figure:
    """Test accuracy against ε (log scale): the shipped private runs, the same network without privacy as a line,
    and the visitor's own private runs, marked."""
    figure = go.Figure()
    if sweep is not None:
        points = sorted((row["epsilon"], row["test_accuracy"]) for row in sweep["private"])
        figure.add_trace(
            go.Scatter(
                x=[e for e, __ in points],
                y=[a for __, a in points],
                mode="lines+markers",
                name=_("private runs, shipped"),
                line={"color": MUTED},
                hovertemplate=_("ε %{x:.2f}: %{y:.2%}<extra></extra>"),
            )
        )
        figure.add_hline(
            y=sweep["baseline"]["test_accuracy"],
            line={"dash": "dash", "color": ACCENT},
            annotation_text=_("without privacy: {sweep:.2%}").format(sweep=sweep["baseline"]["test_accuracy"]),
            annotation_position="bottom right",
        )
    if yours:
        figure.add_trace(
            go.Scatter(
                x=[e for e, __ in yours],
                y=[a for __, a in yours],
                mode="markers",
                name=_("your private runs"),
                marker={"color": ATTACKED, "size": 13, "symbol": "star"},
                hovertemplate=_("yours: ε %{x:.2f}, %{y:.2%}<extra></extra>"),
            )
        )
    figure.update_layout(
        xaxis={
            "title": _("ε (δ = 1e-5): smaller is more private"),
            "type": "log",
            "tickvals": [0.5, 1, 2, 3, 4, 8, 16],
        },
        yaxis={"title": _("test accuracy"), "tickformat": ".1%"},
        height=340,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )
    return figure


def membership_roc(twins: dict[str, dict]) -> go.Figure:
    """The loss-threshold attack's ROC for the overfitting network and its private twin; a guess is the diagonal."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=_("a guess"), line={"dash": "dot", "color": MUTED})
    )
    names = {"overfit": (_("without privacy"), ACCENT), "private": (_("private twin"), ATTACKED)}
    for key, (name, colour) in names.items():
        twin = twins[key]
        figure.add_trace(
            go.Scatter(
                x=twin["false_positive"],
                y=twin["true_positive"],
                mode="lines",
                name=_("{name}: AUC {twin:.2f}").format(name=name, twin=twin["auc"]),
                line={"color": colour},
                hovertemplate=_("%{x:.0%} of others and %{y:.0%} of members called members<extra></extra>"),
            )
        )
    figure.update_layout(
        xaxis={"title": _("other digits called members"), "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": _("training digits called members"), "tickformat": ".0%", "range": [0, 1]},
        height=360,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )
    return figure
