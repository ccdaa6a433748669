"""Hand-drawn-looking symbols for the transfer-learning tests and bench: strokes with natural variation.

Each drawing is one symbol's strokes, wobbled, then rotated, slanted, scaled and placed at random on a
black 280×280 canvas in a random pen width, as the Draw page's canvas gives it (RGBA, white ink).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, points: int = 24) -> list:
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in np.linspace(start, end, points)]


_STAR = [(0.5 + 0.5 * math.sin(k * 4 * math.pi / 5), 0.5 - 0.5 * math.cos(k * 4 * math.pi / 5)) for k in range(6)]

# Strokes in unit coordinates (x right, y down), in the order a person draws them.
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "+": [[(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "×": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "←": [[(1.0, 0.5), (0.0, 0.5)], [(0.35, 0.15), (0.0, 0.5), (0.35, 0.85)]],
    "→": [[(0.0, 0.5), (1.0, 0.5)], [(0.65, 0.15), (1.0, 0.5), (0.65, 0.85)]],
    "b": [[(0.25, 0.0), (0.25, 1.0)], _arc(0.5, 0.72, 0.25, 0.28, math.pi, 3 * math.pi)],
    "d": [[(0.75, 0.0), (0.75, 1.0)], _arc(0.5, 0.72, 0.25, 0.28, 0, 2 * math.pi)],
    "✓": [[(0.0, 0.55), (0.35, 1.0), (1.0, 0.0)]],
    "★": [_STAR],
    "○": [_arc(0.5, 0.5, 0.5, 0.5, -math.pi / 2, 1.5 * math.pi + 0.2, 40)],
    "△": [[(0.5, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.0)]],
}
# Hand-drawn digits, as the browser tests draw them and the data engine's tests and bench style them.
DIGIT_STROKES = {
    "1": [[(0.35, 0.2), (0.55, 0.0), (0.55, 1.0)]],
    "0": [[(0.5 + 0.35 * math.sin(a), 0.5 - 0.5 * math.cos(a)) for a in (i / 20 * 2 * math.pi for i in range(21))]],
    "7": [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)]],
    "2": [[(0.15, 0.25), (0.3, 0.05), (0.6, 0.0), (0.85, 0.2), (0.8, 0.45), (0.1, 1.0), (0.9, 1.0)]],
    "3": [
        [
            (0.15, 0.1),
            (0.5, 0.0),
            (0.8, 0.15),
            (0.75, 0.4),
            (0.45, 0.5),
            (0.8, 0.6),
            (0.85, 0.85),
            (0.5, 1.0),
            (0.15, 0.9),
        ]
    ],
    "4": [[(0.6, 0.0), (0.1, 0.65), (0.9, 0.65)], [(0.65, 0.3), (0.65, 1.0)]],
    "5": [[(0.85, 0.0), (0.2, 0.0), (0.15, 0.45), (0.5, 0.38), (0.8, 0.5), (0.85, 0.75), (0.6, 0.98), (0.15, 0.9)]],
    "6": [
        [
            (0.75, 0.0),
            (0.4, 0.2),
            (0.2, 0.55),
            (0.25, 0.85),
            (0.5, 1.0),
            (0.75, 0.85),
            (0.75, 0.6),
            (0.5, 0.5),
            (0.25, 0.65),
        ]
    ],
    "8": [
        [(0.5 + 0.22 * math.sin(a), 0.24 - 0.24 * math.cos(a)) for a in (i / 20 * 2 * math.pi for i in range(21))],
        [(0.5 + 0.3 * math.sin(a), 0.74 - 0.26 * math.cos(a)) for a in (i / 20 * 2 * math.pi for i in range(21))],
    ],
    "9": [[(0.75, 0.3), (0.5, 0.45), (0.25, 0.3), (0.3, 0.05), (0.6, 0.0), (0.75, 0.2), (0.7, 0.6), (0.6, 1.0)]],
}
LOOK_ALIKES = ["+", "×", "←", "→", "b", "d", "✓", "★"]  # the eight, pairs that differ by a turn or a mirror


def _dense(stroke: list, step: float = 0.02) -> np.ndarray:
    """The polyline with a point every `step` (unit coordinates), so a wobble bends it smoothly."""
    points = [np.asarray(stroke[0], float)]
    for a, b in zip(stroke, stroke[1:], strict=False):
        a, b = np.asarray(a, float), np.asarray(b, float)
        count = max(1, int(np.linalg.norm(b - a) / step))
        points += [a + (b - a) * t for t in np.linspace(0, 1, count + 1)[1:]]
    return np.array(points)


@dataclass(frozen=True)
class Style:
    """How a hand draws: each drawing takes its values uniformly from these ranges."""

    angle: tuple[float, float] = (-15, 15)  # degrees, turned clockwise from upright
    slant: tuple[float, float] = (-0.2, 0.2)  # horizontal shift per unit of height (y down): > 0 leans left
    size: tuple[float, float] = (0.35, 0.8)  # the drawing's height, as a share of the canvas
    width: tuple[float, float] = (14, 30)  # pen width in canvas pixels
    wobble: float = 0.006  # a hand's drift per point of the stroke, in units of the drawing's size


HAND = Style()
# Thick strokes leaning hard left on a page turned anticlockwise, as a left hand on a tilted phone might draw:
# a style the default network reads poorly (about half right), for the data engine's tests and bench
LEFT_LEANING = Style(angle=(-30, -15), slant=(0.8, 1.1), size=(0.45, 0.8), width=(34, 46), wobble=0.008)


def draw_symbol(symbol: str, rng: np.random.Generator, *, canvas: int = 280, style: Style = HAND) -> np.ndarray:
    """One drawing of `symbol` as the canvas gives it: (canvas, canvas, 4) uint8, white strokes on black."""
    angle = math.radians(rng.uniform(*style.angle))
    slant = rng.uniform(*style.slant)
    size = rng.uniform(*style.size) * canvas
    aspect = rng.uniform(0.8, 1.2)
    width = int(rng.uniform(*style.width))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    shear = np.array([[1, slant], [0, 1]])
    transform = rotation @ shear @ np.diag([size * aspect, size])
    margin = size * 0.75
    centre = rng.uniform(margin, canvas - margin, 2) if canvas > 2 * margin else np.full(2, canvas / 2)
    image = Image.new("L", (canvas, canvas), 0)
    pen = ImageDraw.Draw(image)
    for stroke in {**STROKES, **DIGIT_STROKES}[symbol]:
        points = _dense(stroke)
        wobble = np.cumsum(rng.normal(0, style.wobble, points.shape), axis=0)  # a hand drifts, it does not jump
        points = (points + wobble - 0.5) @ transform.T + centre
        pen.line([tuple(p) for p in points], fill=255, width=width, joint="curve")
        for x, y in points[[0, -1]]:  # round pen ends
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    grey = np.asarray(image)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def drawings(
    symbols: list[str], per_symbol: int, *, seed: int, style: Style = HAND
) -> tuple[list[np.ndarray], list[str]]:
    """`per_symbol` drawings of each symbol (canvas RGBA) and their names, interleaved."""
    rng = np.random.default_rng(seed)
    pictures, names = [], []
    for _ in range(per_symbol):
        for symbol in symbols:
            pictures.append(draw_symbol(symbol, rng, style=style))
            names.append(symbol)
    return pictures, names


if __name__ == "__main__":  # python harness/symbols.py FOLDER: a sheet of samples to look at
    import sys
    from pathlib import Path

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    sheet, _ = drawings(list(STROKES), 4, seed=0)
    rows = [np.hstack([p[..., 0] for p in sheet[i : i + len(STROKES)]]) for i in range(0, len(sheet), len(STROKES))]
    Image.fromarray(np.vstack(rows)).resize((len(STROKES) * 112, 4 * 112)).save(folder / "symbols.png")
