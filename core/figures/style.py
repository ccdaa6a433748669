"""The figures' shared look: colours, the size pictures are shown at, the layout of accuracy charts."""

from __future__ import annotations

import plotly.graph_objects as go

from core.i18n import N_

ACCENT = "#ff4b4b"  # Streamlit's primary red: the predicted class
MUTED = "#8c96a8"  # every other class
ATTACKED = "#ffbd45"  # a curve measured under attack
SPLITS = {
    "train": (N_("training"), MUTED),
    "validation": (N_("validation"), ACCENT),
    "robust": (N_("under attack"), ATTACKED),
}
PICTURE_WIDTH = 168  # CSS pixels at which pages show a 28x28 picture: six per pixel
GRID_GREY = 49  # the pixel grid's lines, close to the dark theme's #31333f


def accuracy_layout(figure: go.Figure, xaxis_title: str, yaxis_title: str, *, height: int = 320) -> go.Figure:
    """The layout of the accuracy-against-something line charts: 0 to 100%, the legend below."""
    figure.update_layout(
        xaxis_title=xaxis_title,
        yaxis_title=yaxis_title,
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.02],
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.3},
    )
    return figure


CURVE_WIDTH, CURVE_HEIGHT = 320, 190  # an SVG panel's drawing units; it scales to the page's width
