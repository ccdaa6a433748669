"""Confusion matrices and per-class scores as plotly charts."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.i18n import _


def _matrix_figure(colour: np.ndarray, text: np.ndarray, *, colorscale, zmid: float | None, hover: str) -> go.Figure:
    """A 10x10 matrix, true digit down the rows, predicted across, with clickable cells."""
    digits = list(range(len(colour)))
    figure = go.Figure(
        go.Heatmap(
            z=colour,
            x=digits,
            y=digits,
            text=text,
            texttemplate="%{text}",
            colorscale=colorscale,
            zmid=zmid,
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        )
    )
    # Streamlit reports clicks on scatter points, not on heatmap cells: an invisible square
    # marker over every cell makes each one clickable.
    rows, cols = np.indices(colour.shape)
    figure.add_trace(
        go.Scatter(
            x=cols.ravel(),
            y=rows.ravel(),
            mode="markers",
            marker={"symbol": "square", "size": 28, "opacity": 0.01, "color": "white"},
            customdata=np.stack([rows.ravel(), cols.ravel(), text.ravel()], axis=1),
            hovertemplate=hover,
            showlegend=False,
        )
    )
    figure.update_layout(
        xaxis={
            "title": _("predicted digit"),
            "tickmode": "linear",
            "side": "top",
            "fixedrange": True,
            "range": [-0.5, len(colour) - 0.5],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "title": _("true digit"),
            "tickmode": "linear",
            "fixedrange": True,
            "range": [len(colour) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
        },
        height=460,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        clickmode="event+select",
        dragmode=False,
    )
    return figure


def confusion_heatmap(matrix: np.ndarray, *, percentages: np.ndarray | None = None, dim_diagonal: bool) -> go.Figure:
    """Confusion matrix as a heatmap: counts, or row percentages if given; the diagonal dimmed if asked."""
    values = matrix.astype(float) if percentages is None else percentages
    text = np.array([[f"{v:.0f}" if percentages is None else f"{v:.1f}%" for v in row] for row in values])
    colour = np.log1p(values)  # a log scale so single errors show beside a thousand correct digits
    if dim_diagonal:
        np.fill_diagonal(colour, 0.0)
    return _matrix_figure(
        colour,
        text,
        colorscale=[[0.0, "#1e2130"], [0.5, "#2f6fb5"], [1.0, "#9fd3ff"]],
        zmid=None,
        hover=_("true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]}<extra>click to see them</extra>"),
    )


def difference_heatmap(difference: np.ndarray) -> go.Figure:
    """Matrix of model A minus model B: red where A has more digits in a cell, blue where B has."""
    text = np.array([[f"{v:+d}" if v else "" for v in row] for row in difference])
    colour = np.sign(difference) * np.log1p(np.abs(difference))
    return _matrix_figure(
        colour,
        text,
        colorscale="RdBu_r",
        zmid=0.0,
        hover=_("true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]}<extra></extra>"),
    )


def class_scores(precision: np.ndarray, recall: np.ndarray, f1: np.ndarray) -> go.Figure:
    """Grouped bars of precision, recall and F1 for every digit."""
    digits = list(range(len(precision)))
    figure = go.Figure(
        [
            go.Bar(name=name, x=digits, y=values)
            for name, values in (("precision", precision), ("recall", recall), ("F1", f1))
        ]
    )
    low = float(min(precision.min(), recall.min(), f1.min()))
    figure.update_layout(
        barmode="group",
        xaxis={"title": _("digit"), "tickmode": "linear", "fixedrange": True},
        yaxis={"range": [max(0.0, low - 0.02), 1.0], "tickformat": ".1%", "fixedrange": True},
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
