"""Figures, pictures and HTML bars, built as pure functions so pages only display them."""

from __future__ import annotations

import base64
import io
from html import escape

import numpy as np
import plotly.graph_objects as go
from PIL import Image

ACCENT = "#ff4b4b"  # Streamlit's primary red: the predicted class
MUTED = "#8c96a8"  # every other class
ATTACKED = "#ffbd45"  # a curve measured under attack
SPLITS = {"train": ("training", MUTED), "validation": ("validation", ACCENT), "robust": ("under attack", ATTACKED)}
PICTURE_WIDTH = 168  # CSS pixels at which pages show a 28x28 picture: six per pixel
GRID_GREY = 49  # the pixel grid's lines, close to the dark theme's #31333f


def probability_list(probabilities: np.ndarray, labels: list[str] | None = None) -> str:
    """The class probabilities as HTML bars, the most likely one highlighted; all zero: empty bars.

    `labels` names the classes (escaped here: they may be a visitor's words); None: the digits 0-9.

    Plain HTML with inline styles (for `st.html`): it is redrawn on every stroke of every visitor, and
    replacing this page's two plotly charts took ten drawing visitors from p50 1.9 s to 1.1 s (bench/load.py).
    """
    probabilities = np.asarray(probabilities, np.float32)
    names = [str(digit) for digit in range(len(probabilities))] if labels is None else [escape(x) for x in labels]
    width = max(len(name) for name in names)
    top = int(np.argmax(probabilities)) if probabilities.any() else None
    rows = []
    for index, (name, probability) in enumerate(zip(names, probabilities, strict=True)):
        colour, weight = (ACCENT, 700) if index == top else (MUTED, 400)
        shown = f"{probability:.0%}" if probability >= 0.005 else "&lt;1%" if top is not None else "–"
        rows.append(
            f'<div role="listitem" aria-label="{name}: {shown}" style="display:flex;align-items:center;'
            f'gap:0.6rem;height:1.35rem;font-variant-numeric:tabular-nums;font-weight:{weight}">'
            f'<span style="min-width:{width}ch">{name}</span>'
            f'<span style="flex:1;height:0.8rem;border-radius:3px;background:rgba(140,150,168,0.16)">'
            f'<span style="display:block;height:100%;width:{probability:.1%};border-radius:3px;'
            f'background:{colour}"></span></span>'
            f'<span style="width:4ch;text-align:right">{shown}</span></div>'
        )
    kind = "digit" if labels is None else "symbol"
    return f'<div role="list" aria-label="Probability of each {kind}">{"".join(rows)}</div>'


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


def _accuracy_layout(figure: go.Figure, xaxis_title: str, yaxis_title: str, *, height: int = 320) -> go.Figure:
    """The layout of the accuracy-against-something line charts: 0 to 100%, the legend below."""
    figure.update_layout(
        xaxis_title=xaxis_title, yaxis_title=yaxis_title, yaxis_tickformat=".0%", yaxis_range=[0, 1.02], height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "yanchor": "top", "y": -0.3},
    )  # fmt: skip
    return figure


def png_bytes(image: np.ndarray, *, factor: int = 10) -> bytes:
    """A (28, 28) image in [0, 1] as a PNG file, each pixel a crisp `factor`-wide square."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(image, factor)).save(buffer, format="PNG")
    return buffer.getvalue()


def robustness_figure(curves: dict[str, dict[str, np.ndarray]], eps_values) -> go.Figure:
    """Accuracy against ε: one line per (model, attack); the first model solid, the others dashed."""
    figure = go.Figure()
    for index, (model, by_attack) in enumerate(curves.items()):
        for attack, accuracies in by_attack.items():
            figure.add_trace(
                go.Scatter(
                    x=list(eps_values), y=accuracies, mode="lines+markers", name=f"{model} · {attack}",
                    line={"dash": "solid" if index == 0 else "dash", "color": ACCENT if "PGD" in attack else MUTED},
                    hovertemplate="ε %{x}: %{y:.1%} read right<extra>%{fullData.name}</extra>",
                )
            )  # fmt: skip
    return _accuracy_layout(figure, "ε: the most any pixel may change (0 to 1)", "accuracy", height=360)


def transfer_figure(comparison) -> go.Figure:
    """Held-out accuracy against drawings per symbol, one line per learner (a core.transfer.Comparison)."""
    figure = go.Figure()
    colours = {"frozen features": ACCENT, "raw pixels": MUTED, "from scratch": ATTACKED}
    for method, accuracies in comparison.accuracy.items():
        figure.add_trace(go.Scatter(
            x=list(comparison.shots), y=[None if np.isnan(a) else a for a in accuracies], name=method,
            mode="lines+markers", line={"color": colours.get(method, MUTED)},
            hovertemplate="%{x} per symbol: %{y:.0%} of the rest read right<extra>%{fullData.name}</extra>",
        ))  # fmt: skip
    figure.update_layout(xaxis_type="log", xaxis_tickvals=list(comparison.shots))
    return _accuracy_layout(figure, "drawings per symbol it learnt from", "held-out accuracy")


CURVE_WIDTH, CURVE_HEIGHT = 320, 190  # an SVG panel's drawing units; it scales to the page's width
_PLOT = (44, 10, 312, 160)  # the plotting area inside a panel: left, top, right, bottom


def _ticks(low: float, high: float) -> list[float]:
    """Three to six round values (1, 2 or 5 times a power of ten apart) within [low, high]."""
    step = 10 ** np.floor(np.log10(max(high - low, 1e-12))) / 10
    step *= next(factor for factor in (1, 2, 5, 10, 20, 50) if (high - low) / (step * factor) <= 5)
    return [float(round(tick, 10)) for tick in np.arange(np.ceil(low / step) * step, high + step * 1e-6, step)]


def _curve_panel(title: str, series: dict, *, steps: float, low: float, high: float, label) -> str:
    """One panel: axes, tick labels, a polyline per split; validation points carry a tooltip."""
    left, top, right, bottom = _PLOT

    def x(step: float) -> float:
        return left + (right - left) * step / steps

    def y(value: float) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    parts = [f'<text x="{left}" y="{top - 2}" class="dl-title">{title}</text>']
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="dl-grid"/>'
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{label(tick)}</text>'
        )
    for tick in _ticks(0, steps):
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 14}" text-anchor="middle">{tick:g}</text>')
    parts.append(f'<text x="{right}" y="{bottom + 28}" text-anchor="end">step</text>')
    for split, points in series.items():
        name, colour = SPLITS[split]
        xy = " ".join(f"{x(step):.1f},{y(value):.1f}" for step, value in points)
        parts.append(f'<polyline points="{xy}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if split == "train" and len(points) == 1:  # a line of one point would not show
            parts.append(f'<circle cx="{x(points[0][0]):.1f}" cy="{y(points[0][1]):.1f}" r="2.5" fill="{colour}"/>')
        if split != "train":  # once per epoch: a point with a tooltip
            parts += [
                f'<circle cx="{x(step):.1f}" cy="{y(value):.1f}" r="3.5" fill="{colour}">'
                f"<title>{name} {title} at step {step}: {label(value, precise=True)}</title></circle>"
                for step, value in points
            ]
    return f'<svg viewBox="0 0 {CURVE_WIDTH} {CURVE_HEIGHT}" role="presentation">{"".join(parts)}</svg>'


def training_curves(history: dict) -> str:
    """Loss and accuracy against training step: HTML with two SVG panels (for `st.markdown`).

    Training points every few dozen steps (grey), validation once per epoch (red, with tooltips), and
    for adversarial training the held-out digits' accuracy under PGD once per epoch (yellow).
    A page redraws this every second while a run trains: watching a run as a plotly chart cost the
    browser 18.7% of a core and the server 4.6%; as SVG 9.4% and 1.3% (bench/train_page.py; an idle
    Train page: 0.6% and 0.5%). Non-finite values (a diverged run) are left out.
    """
    series = {metric: {} for metric in ("loss", "accuracy")}
    for split, points in history.items():
        kept = [(step, loss, accuracy) for step, loss, accuracy in points if np.isfinite([loss, accuracy]).all()]
        if kept:
            series["loss"][split] = [(step, loss) for step, loss, _ in kept]
            series["accuracy"][split] = [(step, accuracy) for step, _, accuracy in kept]
    all_points = [point for points in history.values() for point in points]
    steps = max([step for step, _, _ in all_points] + [1])
    losses = [value for points in series["loss"].values() for _, value in points] or [1.0]
    accuracies = [value for points in series["accuracy"].values() for _, value in points] or [0.9]
    floor = min(0.9, np.floor(min(accuracies) * 10) / 10)  # accuracy axis from a round tenth up to 100%
    panels = (
        _curve_panel("loss", series["loss"], steps=steps, low=0.0, high=max(max(losses), 1e-3) * 1.05,
                     label=lambda v, precise=False: f"{v:.3f}" if precise else f"{v:.2g}"),
        _curve_panel("accuracy", series["accuracy"], steps=steps, low=floor, high=1.0,
                     label=lambda v, precise=False: f"{v:.2%}" if precise else f"{v:.0%}"),
    )  # fmt: skip
    latest = {split: points[-1] for split, points in history.items() if points}
    summary = "; ".join(
        f"{split} loss {loss:.3f}, accuracy {accuracy:.1%} at step {step}"
        if np.isfinite([loss, accuracy]).all()
        else f"{split} diverged at step {step}"
        for split, (step, loss, accuracy) in latest.items()
    )
    legend = "".join(
        f'<span><span style="display:inline-block;width:1.2em;height:3px;vertical-align:middle;background:{colour}">'
        f"</span> {name}</span>"
        for split, (name, colour) in SPLITS.items()
        if split != "robust" or history.get("robust")
    )
    style = (
        "<style>.dl-curves svg{width:100%;max-width:480px;height:auto;font-size:11px;fill:currentColor}"
        ".dl-curves .dl-grid{stroke:rgba(140,150,168,0.25)}.dl-curves .dl-title{font-weight:600}</style>"
    )
    boxes = "".join(f'<div style="flex:1 1 260px">{panel}</div>' for panel in panels)
    return (
        f'{style}<div class="dl-curves" role="img" aria-label="Training curves: {summary or "no points yet"}">'
        f'<div style="display:flex;flex-wrap:wrap;gap:1rem">{boxes}</div>'
        f'<div style="display:flex;gap:1.5rem;font-size:0.85rem">{legend}</div></div>'
    )


def continual_matrix(accuracy: np.ndarray, test_counts, task_names: list[str]) -> go.Figure:
    """The (5, 5) accuracy matrix: row = after learning task j, column = task i; blank where not yet learnt."""
    text = np.array([["" if np.isnan(v) else f"{v:.0%}" for v in row] for row in accuracy])
    counts = np.broadcast_to(np.asarray(test_counts), accuracy.shape) if len(test_counts) else np.zeros(accuracy.shape)
    figure = go.Figure(
        go.Heatmap(
            z=accuracy, x=task_names, y=[f"after {name}" for name in task_names], text=text, texttemplate="%{text}",
            customdata=counts, zmin=0, zmax=1, colorscale=[[0, "#3b1e22"], [0.5, "#b5452f"], [1, "#2f9e6f"]],
            showscale=False, xgap=2, ygap=2,
            hovertemplate="%{y}, on %{x}: %{z:.1%} of %{customdata:,} test digits<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        xaxis={"title": "tested on", "side": "top", "fixedrange": True},
        yaxis={"autorange": "reversed", "fixedrange": True}, height=330, margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )  # fmt: skip
    return figure


def continual_curves(curves: list, task_names: list[str], steps_per_task: int) -> go.Figure:
    """Each task's test accuracy over the whole run (from the step it is first learnt), tasks marked."""
    figure = go.Figure()
    steps = [step for step, _ in curves]
    for index, name in enumerate(task_names):
        values = [None if np.isnan(point[index]) else point[index] for _, point in curves]
        figure.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=name,
                                    hovertemplate=f"{name}, step %{{x}}: %{{y:.0%}}<extra></extra>"))  # fmt: skip
    for index in range(1, len(task_names)):
        figure.add_vline(x=index * steps_per_task, line={"color": MUTED, "dash": "dot", "width": 1})
    return _accuracy_layout(figure, "training step (a new task at each dotted line)", "test accuracy")


def continual_runs(runs: dict[str, np.ndarray], task_names: list[str]) -> go.Figure:
    """Average accuracy over the tasks learnt so far, after each task: one line per run."""
    figure = go.Figure()
    for name, averages in runs.items():
        figure.add_trace(go.Scatter(x=task_names[: len(averages)], y=averages, mode="lines+markers", name=name,
                                    hovertemplate="after %{x}: %{y:.1%}<extra>%{fullData.name}</extra>"))  # fmt: skip
    return _accuracy_layout(figure, "tasks learnt", "average accuracy so far")


def slice_figure(group: list, *, overall: float, worst_label: str) -> go.Figure:
    """Accuracy of each slice (core.slices.Slice) with its 95% interval; the overall accuracy as a line."""
    labels = [s.label for s in group]
    accuracy = np.array([s.accuracy for s in group])
    figure = go.Figure(
        go.Bar(
            x=labels, y=accuracy, marker_color=[ACCENT if label == worst_label else MUTED for label in labels],
            error_y={"type": "data", "symmetric": False, "array": [s.interval[1] - s.accuracy for s in group],
                     "arrayminus": [s.accuracy - s.interval[0] for s in group]},
            customdata=[[s.count, s.count - s.correct, s.interval[0], s.interval[1]] for s in group],
            hovertemplate="%{x}: %{y:.2%} of %{customdata[0]:,} (95%: %{customdata[2]:.2%}–%{customdata[3]:.2%}), "
            "%{customdata[1]} mistakes<extra>click to see them</extra>",
        )
    )  # fmt: skip
    figure.add_hline(y=overall, line={"color": ATTACKED, "dash": "dash"}, annotation_text=f"all digits {overall:.2%}")
    low = max(0.0, min(s.interval[0] for s in group) - 0.01)
    figure.update_layout(
        yaxis={"tickformat": ".1%", "range": [low, 1.0], "title": "accuracy"}, height=340, dragmode=False,
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, clickmode="event+select",
    )  # fmt: skip
    return figure


def reliability_figure(before, after) -> go.Figure:
    """Reliability diagram (core.calibration.Reliability before and after temperature scaling) and the diagonal."""
    figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                                  line={"color": MUTED, "dash": "dot"}, hoverinfo="skip"))  # fmt: skip
    for name, table, colour in (("before", before, MUTED), ("after temperature scaling", after, ACCENT)):
        used = table.counts > 0
        figure.add_trace(go.Scatter(
            x=table.confidence[used], y=table.accuracy[used], mode="lines+markers", name=name,
            line={"color": colour}, customdata=table.counts[used],
            hovertemplate="sure %{x:.1%}: right %{y:.1%} of %{customdata:,} digits<extra>" + name + "</extra>",
        ))  # fmt: skip
    figure.update_layout(
        xaxis={"title": "how sure it was (mean in each bin)", "tickformat": ".0%"},
        yaxis={"title": "how often it was right", "tickformat": ".0%"}, height=360,
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )  # fmt: skip
    return figure


def confidence_histogram(probabilities: np.ndarray, labels: np.ndarray) -> go.Figure:
    """How sure the network was, for the digits it read right and for those it read wrong (shares of each).

    Binned here: 20 bars per group travel to the browser, not 10,000 values.
    """
    confidence, right = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, 21)
    figure = go.Figure()
    for name, chosen, colour in (("read right", right, MUTED), ("read wrong", ~right, ACCENT)):
        counts, _ = np.histogram(confidence[chosen], bins=edges)
        shares = counts / max(chosen.sum(), 1)
        figure.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=shares, width=0.05, name=f"{name} ({chosen.sum():,})",
                                marker_color=colour, opacity=0.75,
                                hovertemplate="sure %{x:.0%}: %{y:.1%} of the group<extra></extra>"))  # fmt: skip
    figure.update_layout(
        barmode="overlay", xaxis={"title": "top probability", "tickformat": ".0%"},
        yaxis={"title": "share of the group", "tickformat": ".0%"}, height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.3},
    )  # fmt: skip
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
            figure.add_trace(go.Scatter(
                x=[f"{strengths[i]:g}{unit}" for i in order], y=by_shift[name][order], mode="lines+markers",
                name=model, legendgroup=model, showlegend=panel == 0,
                line={"color": ACCENT if index == 0 else MUTED, "dash": "solid" if index == 0 else "dash"},
                hovertemplate=f"{name} %{{x}}: %{{y:.1%}}<extra>{model}</extra>",
            ), row=panel // 3 + 1, col=panel % 3 + 1)  # fmt: skip
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    figure.update_layout(height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.12})  # fmt: skip
    return figure


FORMAT_SYMBOLS = {"float32": "circle", "float16": "diamond", "dynamic": "square", "int8": "star"}


def compression_figure(variants: list) -> go.Figure:
    """Size against test accuracy of core.compress.Variants: a colour per model, a shape per format, latency as size."""
    figure = go.Figure()
    longest = max((v.latency_ms for v in variants), default=1.0)
    for source in dict.fromkeys(v.source for v in variants):
        mine = [v for v in variants if v.source == source]
        figure.add_trace(go.Scatter(
            x=[v.size_bytes / 1024 for v in mine], y=[v.accuracy for v in mine], mode="markers", name=source[:40],
            marker={"size": [10 + 20 * v.latency_ms / longest for v in mine], "line": {"width": 1},
                    "symbol": [FORMAT_SYMBOLS.get(v.quantization, "circle") for v in mine]},
            customdata=[[v.quantization, v.latency_ms, v.zipped_bytes / 1024, v.sparsity] for v in mine],
            hovertemplate="%{customdata[0]}: %{x:,.0f} KB (%{customdata[2]:,.0f} KB zipped), %{y:.2%}, "
            "%{customdata[1]:.3f} ms per digit, %{customdata[3]:.0%} zero weights<extra>%{fullData.name}</extra>",
        ))  # fmt: skip
    figure.update_layout(
        xaxis={"title": "size of the .tflite file (KB, log scale)", "type": "log"}, height=380,
        yaxis={"title": "test accuracy", "tickformat": ".2%"}, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25},
    )  # fmt: skip
    return figure


def _png_data_uri(image: np.ndarray) -> str:
    """A (28, 28) uint8 picture as an inline PNG: the wall needs no file server and no network."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image / np.float32(255), factor=1)).decode()


def room_wall(shares: list) -> str:
    """core.room.Shares as a grid of thumbnails, each with what the network read (green if as meant, else red)."""
    cells = []
    for share in shares:
        colour, mark = ("#21c354", "✓") if share.right else (ACCENT, f"meant {share.meant}")
        cells.append(
            f'<figure style="margin:0;text-align:center;width:72px" aria-label="drawing {share.number}: read '
            f'{share.read}, meant {share.meant}"><img src="{_png_data_uri(share.image)}" width="64" height="64" '
            f'alt="" style="image-rendering:pixelated;border:3px solid {colour};border-radius:6px">'
            f'<figcaption style="font-size:0.8rem;line-height:1.2">#{share.number} · <b>{share.read}</b> '
            f'<span style="color:{colour}">{mark}</span></figcaption></figure>'
        )
    grid = "display:flex;flex-wrap:wrap;gap:0.5rem"
    return f'<div style="{grid}" aria-label="The room\'s drawings">{"".join(cells)}</div>'


def reading_line(digit: int | None, confidence: float, *, size: str) -> str:
    """The reading in one line of large type, e.g. "7 · 98% sure": above a phone's canvas, or on a projector."""
    if digit is None:
        return f'<div style="font-size:{size};line-height:1.1;color:{MUTED}" aria-live="polite">–</div>'
    return (
        f'<div aria-live="polite" style="display:flex;align-items:baseline;gap:0.4em;line-height:1.05">'
        f'<span data-testid="digitlab-reading" style="font-size:{size};font-weight:700;color:{ACCENT}">{digit}</span>'
        f'<span style="font-size:calc({size} / 3.5);color:{MUTED}">{confidence:.0%} sure</span></div>'
    )
