"""Training curves as an SVG drawn here: cheap for the browser and the server while a run is watched."""

from __future__ import annotations

import numpy as np

from core.figures.style import CURVE_HEIGHT, CURVE_WIDTH, SPLITS
from core.i18n import N_, _

_PLOT = (44, 10, 312, 160)  # the plotting area inside a panel: left, top, right, bottom


def _ticks(low: float, high: float) -> list[float]:
    """Three to six round values (1, 2 or 5 times a power of ten apart) within [low, high]."""
    step = 10 ** np.floor(np.log10(max(high - low, 1e-12))) / 10
    step *= next(factor for factor in (1, 2, 5, 10, 20, 50) if (high - low) / (step * factor) <= 5)
    return [float(round(tick, 10)) for tick in np.arange(np.ceil(low / step) * step, high + step * 1e-6, step)]


SPLIT_WORDS = {"train": N_("train"), "validation": N_("validation"), "robust": N_("robust")}  # the summary's words


def _curve_panel(title: str, series: dict, *, steps: float, low: float, high: float, label) -> str:
    """One panel: axes, tick labels, a polyline per split; validation points carry a tooltip."""
    left, top, right, bottom = _PLOT

    def x(step: float) -> float:
        return left + (right - left) * step / steps

    def y(value: float) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    parts = [f'<text x="{left}" y="{top - 2}" class="dl-title">{_(title)}</text>']
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="dl-grid"/>'
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{label(tick)}</text>'
        )
    for tick in _ticks(0, steps):
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 14}" text-anchor="middle">{tick:g}</text>')
    step_word = _("step")
    parts.append(f'<text x="{right}" y="{bottom + 28}" text-anchor="end">{step_word}</text>')
    for split, points in series.items():
        name, colour = SPLITS[split]
        name = _(name)
        xy = " ".join(f"{x(step):.1f},{y(value):.1f}" for step, value in points)
        parts.append(f'<polyline points="{xy}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if split == "train" and len(points) == 1:  # a line of one point would not show
            parts.append(f'<circle cx="{x(points[0][0]):.1f}" cy="{y(points[0][1]):.1f}" r="2.5" fill="{colour}"/>')
        if split != "train":  # once per epoch: a point with a tooltip
            parts += [
                f'<circle cx="{x(step):.1f}" cy="{y(value):.1f}" r="3.5" fill="{colour}">'
                "<title>{}</title></circle>".format(
                    _("{split} {metric} at step {step}: {value}").format(
                        split=name, metric=_(title), step=step, value=label(value, precise=True)
                    )
                )
                for step, value in points
            ]
    return f'<svg viewBox="0 0 {CURVE_WIDTH} {CURVE_HEIGHT}" role="presentation">{"".join(parts)}</svg>'


def training_curves(history: dict) -> str:
    """Loss and accuracy against training step: HTML with two SVG panels (for `st.markdown`).

    Training points every few dozen steps (grey), validation once per epoch (red, with tooltips), and
    for adversarial training the held-out digits' accuracy under PGD once per epoch (yellow).
    A page redraws this every second while a run trains, and SVG costs the browser and the server a fraction of what
    a plotly chart does (bench/train_page.py measures both). Non-finite values (a diverged run) are left out.
    """
    series = {metric: {} for metric in ("loss", "accuracy")}
    for split, points in history.items():
        kept = [(step, loss, accuracy) for step, loss, accuracy in points if np.isfinite([loss, accuracy]).all()]
        if kept:
            series["loss"][split] = [(step, loss) for step, loss, __ in kept]
            series["accuracy"][split] = [(step, accuracy) for step, __, accuracy in kept]
    all_points = [point for points in history.values() for point in points]
    steps = max([step for step, __, __ in all_points] + [1])
    losses = [value for points in series["loss"].values() for __, value in points] or [1.0]
    accuracies = [value for points in series["accuracy"].values() for __, value in points] or [0.9]
    floor = min(0.9, np.floor(min(accuracies) * 10) / 10)  # accuracy axis from a round tenth up to 100%
    panels = (
        _curve_panel(
            N_("loss"),
            series["loss"],
            steps=steps,
            low=0.0,
            high=max(max(losses), 1e-3) * 1.05,
            label=lambda v, precise=False: f"{v:.3f}" if precise else f"{v:.2g}",
        ),
        _curve_panel(
            N_("accuracy"),
            series["accuracy"],
            steps=steps,
            low=floor,
            high=1.0,
            label=lambda v, precise=False: f"{v:.2%}" if precise else f"{v:.0%}",
        ),
    )
    latest = {split: points[-1] for split, points in history.items() if points}
    summary = "; ".join(
        _("{split} loss {loss:.3f}, accuracy {accuracy:.1%} at step {step}").format(
            split=_(SPLIT_WORDS[split]), loss=loss, accuracy=accuracy, step=step
        )
        if np.isfinite([loss, accuracy]).all()
        else _("{split} diverged at step {step}").format(split=_(SPLIT_WORDS[split]), step=step)
        for split, (step, loss, accuracy) in latest.items()
    )
    legend = "".join(
        f'<span><span style="display:inline-block;width:1.2em;height:3px;vertical-align:middle;background:{colour}">'
        f"</span> {_(name)}</span>"
        for split, (name, colour) in SPLITS.items()
        if split != "robust" or history.get("robust")
    )
    style = (
        "<style>.dl-curves svg{width:100%;max-width:480px;height:auto;font-size:11px;fill:currentColor}"
        ".dl-curves .dl-grid{stroke:rgba(140,150,168,0.25)}.dl-curves .dl-title{font-weight:600}</style>"
    )
    boxes = "".join(f'<div style="flex:1 1 260px">{panel}</div>' for panel in panels)
    described = _("Training curves: {summary}").format(summary=summary or _("no points yet"))
    return (
        f'{style}<div class="dl-curves" role="img" aria-label="{described}">'
        f'<div style="display:flex;flex-wrap:wrap;gap:1rem">{boxes}</div>'
        f'<div style="display:flex;gap:1.5rem;font-size:0.85rem">{legend}</div></div>'
    )
