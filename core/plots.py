"""Plotly figures, built as pure functions so pages only display them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

ACCENT = "#ff4b4b"  # Streamlit's primary red: the predicted class
MUTED = "#8c96a8"  # every other class


def probability_bars(probabilities: np.ndarray, *, height: int = 240) -> go.Figure:
    """Bar chart of the 10 class probabilities, the most likely one highlighted."""
    top = int(np.argmax(probabilities))
    colours = [ACCENT if digit == top else MUTED for digit in range(len(probabilities))]
    figure = go.Figure(
        go.Bar(
            x=list(range(len(probabilities))),
            y=probabilities,
            marker_color=colours,
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"tickmode": "linear", "title": "digit", "fixedrange": True},
        yaxis={"range": [0, 1.12], "tickformat": ".0%", "title": "probability", "fixedrange": True},
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=False,
    )
    return figure


def pixel_grid(image: np.ndarray, *, height: int = 200) -> go.Figure:
    """A (28, 28) image in [0, 1] as a heatmap with one visible cell per pixel."""
    figure = go.Figure(
        go.Heatmap(
            z=image,
            colorscale="gray",
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"visible": False, "fixedrange": True, "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x", "fixedrange": True},
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        plot_bgcolor="#31333f",
    )
    return figure
