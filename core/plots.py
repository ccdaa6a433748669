"""Figures, pictures and HTML bars, built as pure functions so pages only display them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

ACCENT = "#ff4b4b"  # Streamlit's primary red: the predicted class
MUTED = "#8c96a8"  # every other class
PICTURE_WIDTH = 168  # CSS pixels at which pages show a 28x28 picture: six per pixel
GRID_GREY = 49  # the pixel grid's lines, close to the dark theme's #31333f


def probability_list(probabilities: np.ndarray) -> str:
    """The 10 class probabilities as HTML bars, the most likely one highlighted; all zero: empty bars.

    Plain HTML with inline styles (for `st.html`): it is redrawn on every stroke of every visitor, and
    replacing this page's two plotly charts took ten drawing visitors from p50 1.9 s to 1.1 s (bench/load.py).
    """
    top = int(np.argmax(probabilities)) if probabilities.any() else None
    rows = []
    for digit, probability in enumerate(probabilities):
        colour, weight = (ACCENT, 700) if digit == top else (MUTED, 400)
        shown = f"{probability:.0%}" if probability >= 0.005 else "&lt;1%" if top is not None else "–"
        rows.append(
            f'<div role="listitem" aria-label="{digit}: {shown}" style="display:flex;align-items:center;'
            f'gap:0.6rem;height:1.35rem;font-variant-numeric:tabular-nums;font-weight:{weight}">'
            f'<span style="width:1ch">{digit}</span>'
            f'<span style="flex:1;height:0.8rem;border-radius:3px;background:rgba(140,150,168,0.16)">'
            f'<span style="display:block;height:100%;width:{probability:.1%};border-radius:3px;'
            f'background:{colour}"></span></span>'
            f'<span style="width:4ch;text-align:right">{shown}</span></div>'
        )
    return f'<div role="list" aria-label="Probability of each digit">{"".join(rows)}</div>'


def pixel_picture(image: np.ndarray, *, factor: int = 12, line: int = 2) -> np.ndarray:
    """A (28, 28) image in [0, 1] enlarged to crisp squares with a faint grid, one cell per pixel."""
    picture = enlarge(image, factor)
    picture[np.arange(len(picture)) % factor < line, :] = GRID_GREY
    picture[:, np.arange(len(picture)) % factor < line] = GRID_GREY
    return picture


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """(28, 28) float image in [0, 1] -> (28 * factor,) * 2 uint8 with crisp square pixels."""
    pixels = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    return np.kron(pixels, np.ones((factor, factor), np.uint8))


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
            "title": "predicted digit",
            "tickmode": "linear",
            "side": "top",
            "fixedrange": True,
            "range": [-0.5, len(colour) - 0.5],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "title": "true digit",
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
        colour, text, colorscale=[[0.0, "#1e2130"], [0.5, "#2f6fb5"], [1.0, "#9fd3ff"]], zmid=None,
        hover="true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]}<extra>click to see them</extra>",
    )  # fmt: skip


def difference_heatmap(difference: np.ndarray) -> go.Figure:
    """Matrix of model A minus model B: red where A has more digits in a cell, blue where B has."""
    text = np.array([[f"{v:+d}" if v else "" for v in row] for row in difference])
    colour = np.sign(difference) * np.log1p(np.abs(difference))
    return _matrix_figure(
        colour, text, colorscale="RdBu_r", zmid=0.0,
        hover="true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]}<extra></extra>",
    )  # fmt: skip


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
        xaxis={"title": "digit", "tickmode": "linear", "fixedrange": True},
        yaxis={"range": [max(0.0, low - 0.02), 1.0], "tickformat": ".1%", "fixedrange": True},
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure


def attribution_picture(values: np.ndarray, image: np.ndarray, *, signed: bool, factor: int = 6) -> np.ndarray:
    """A (28, 28) attribution as an RGB picture over the faint digit: red for, blue against (if signed)."""
    scale = float(np.abs(values).max()) or 1.0
    strength = values / scale  # (28, 28) in [-1, 1]
    base = 0.3 * image  # the digit, dimmed, so the colours can be read against it
    positive, negative = np.clip(strength, 0, 1), np.clip(-strength, 0, 1) if signed else 0.0
    if signed:
        rgb = np.stack([base + positive, base + 0.4 * negative, base + negative], axis=-1)
    else:  # "hot": black, red, yellow, white
        rgb = np.stack([base + 2 * positive, base + 2 * positive - 1, base + 3 * positive - 2], axis=-1)
    pixels = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return np.kron(pixels, np.ones((factor, factor, 1), np.uint8))


def weight_picture(weights: np.ndarray, *, factor: int) -> np.ndarray:
    """A (h, w) weight or activation map as an RGB picture: red positive, blue negative, black zero."""
    return attribution_picture(weights, np.zeros_like(weights), signed=True, factor=factor)


def training_curves(history: dict) -> go.Figure:
    """Loss and accuracy against training step: training every few dozen steps, validation per epoch."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    styles = {"train": {"color": MUTED}, "validation": {"color": ACCENT}}
    for split, points in history.items():
        if not points:
            continue
        steps, loss, accuracy = zip(*points, strict=True)
        mode = "lines" if split == "train" else "lines+markers"
        for column, values in ((1, loss), (2, accuracy)):
            figure.add_trace(
                go.Scatter(x=steps, y=values, mode=mode, name=split, line=styles[split], showlegend=column == 1),
                row=1, col=column,
            )  # fmt: skip
    figure.update_xaxes(title_text="step")
    figure.update_yaxes(tickformat=".0%", row=1, col=2)
    figure.update_layout(
        height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.3}
    )
    return figure
