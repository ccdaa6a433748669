"""A reading as HTML: the probability of every class as bars, and the reading in one line of large type."""

from __future__ import annotations

from html import escape

import numpy as np

from core.figures.style import ACCENT, MUTED
from core.i18n import _


def probability_list(probabilities: np.ndarray, labels: list[str] | None = None) -> str:
    """The class probabilities as HTML bars, the most likely one highlighted; all zero: empty bars.

    `labels` names the classes (escaped here: they may be a visitor's words); None: the digits 0-9.

    Plain HTML with inline styles (for `st.html`): it is redrawn on every stroke of every visitor, and a plotly
    chart costs the browser and the server far more (bench/load.py measured the difference).
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
    label = _("Probability of each digit") if labels is None else _("Probability of each symbol")
    return f'<div role="list" aria-label="{label}">{"".join(rows)}</div>'


def reading_line(digit: int | None, confidence: float, *, size: str) -> str:
    """The reading in one line of large type, e.g. "7 · 98% sure": above a phone's canvas, or on a projector."""
    if digit is None:
        return f'<div style="font-size:{size};line-height:1.1;color:{MUTED}" aria-live="polite">–</div>'
    return (
        f'<div aria-live="polite" style="display:flex;align-items:baseline;gap:0.4em;line-height:1.05">'
        f'<span data-testid="digitlab-reading" style="font-size:{size};font-weight:700;color:{ACCENT}">{digit}</span>'
        f'<span style="font-size:calc({size} / 3.5);color:{MUTED}">{confidence:.0%} sure</span></div>'
    )
