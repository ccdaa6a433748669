"""Every compressed variant: size against test accuracy, read time as the marker's size."""

from __future__ import annotations

import plotly.graph_objects as go

from core.i18n import _

FORMAT_SYMBOLS = {"float32": "circle", "float16": "diamond", "dynamic": "square", "int8": "star"}


def compression_figure(variants: list, names: dict | None = None) -> go.Figure:
    """Size against test accuracy of core.quantize.Variant: a colour per model, a shape per format, latency as size.
    `names`: how each model is called on the page (a shipped model's name in the visitor's language)."""
    figure = go.Figure()
    longest = max((v.latency_ms for v in variants), default=1.0)
    for source in dict.fromkeys(v.source for v in variants):
        mine = [v for v in variants if v.source == source]
        figure.add_trace(
            go.Scatter(
                x=[v.size_bytes / 1024 for v in mine],
                y=[v.accuracy for v in mine],
                mode="markers",
                name=(names or {}).get(source, source)[:40],
                marker={
                    "size": [10 + 20 * v.latency_ms / longest for v in mine],
                    "line": {"width": 1},
                    "symbol": [FORMAT_SYMBOLS.get(v.quantization, "circle") for v in mine],
                },
                customdata=[[v.quantization, v.latency_ms, v.zipped_bytes / 1024, v.sparsity] for v in mine],
                hovertemplate=_(
                    "%{customdata[0]}: %{x:,.0f} KB (%{customdata[2]:,.0f} KB zipped), %{y:.2%}, "
                    "%{customdata[1]:.3f} ms per digit, %{customdata[3]:.0%} zero "
                    "weights<extra>%{fullData.name}</extra>"
                ),
            )
        )
    figure.update_layout(
        xaxis={"title": _("size of the .tflite file (KB, log scale)"), "type": "log"},
        height=380,
        yaxis={"title": _("test accuracy"), "tickformat": ".2%"},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )
    return figure
