"""How well photos of digits are read: synthetic photos of MNIST test digits, one row per condition.

    python bench/photos.py [--digits 500] [--samples tests/data]

Each condition turns the same test digits (never trained on) into pictures as people upload them,
with random margins, light angles, line spacings and ink colours, runs them through the Draw page's
path (`load_image` of the encoded file, then `read_picture`), and reports accuracy and refusals
against the clean 28x28 digits in the same run. Target: every condition >= 97% read right, none refused.
`--samples DIR` also writes one picture per condition (the browser test uploads them).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.data import load_mnist  # noqa: E402
from core.models import load_default_model, predict_proba  # noqa: E402
from core.preprocess import load_image  # noqa: E402
from core.reading import read_picture  # noqa: E402


def ink_map(digit: np.ndarray, rng: np.random.Generator, *, margin: float) -> np.ndarray:
    """(H, W) ink in [0, 1]: the digit enlarged 6-10x, cropped to its ink plus `margin` of its size each side."""
    scale = rng.uniform(6, 10)
    side = round(28 * scale)
    big = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255
    big = np.clip(big, 0, 1)
    rows, cols = np.flatnonzero(big.max(1) > 0.25), np.flatnonzero(big.max(0) > 0.25)
    crop = big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    pad = [round(margin * max(crop.shape) * rng.uniform(0.7, 1.3)) for _ in range(4)]
    return np.pad(crop, ((pad[0], pad[1]), (pad[2], pad[3])))


def light_field(shape: tuple[int, int], rng: np.random.Generator, *, falloff: float) -> np.ndarray:
    """Light across the page falling linearly to `falloff` of its peak, from a random side."""
    rows, cols = np.indices(shape, dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * cols / shape[1] + np.sin(angle) * rows / shape[0]
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    return 1 - (1 - falloff) * ramp


def encode(pixels: np.ndarray, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format, **options)
    return buffer.getvalue()


def paper_photo(ink, rng, *, paper=235.0, ink_colour=(25, 25, 30), noise=3.0, falloff=1.0, quality=92, lines=None):
    """An RGB JPEG of ink on paper: coloured ink, light falling off, sensor noise, optional ruled lines."""
    height, width = ink.shape
    page = np.full((height, width, 3), paper, np.float32)
    if lines is not None:  # ruled paper: thin printed lines across the page, every `spacing` px
        spacing, colour = lines
        offset = rng.integers(0, spacing)
        for row in range(offset, height, spacing):
            page[row : row + 2] = colour
    colour = np.asarray(ink_colour, np.float32)
    picture = page * (1 - ink[..., None]) + colour * ink[..., None]
    picture *= light_field(ink.shape, rng, falloff=falloff)[..., None]
    picture += rng.normal(0, noise, picture.shape)
    return encode(picture, "JPEG", quality=quality)


def conditions(rng: np.random.Generator) -> dict:
    """name -> function(digit) -> bytes of a picture file."""
    ruled_colour = (150, 170, 215)  # light blue printed lines
    return {
        "loose margin": lambda d: paper_photo(ink_map(d, rng, margin=rng.uniform(0.2, 0.6)), rng),
        "no margin, dark on light": lambda d: encode(255 - 230 * ink_map(d, rng, margin=0), "PNG"),
        "no margin, light on dark": lambda d: encode(20 + 235 * ink_map(d, rng, margin=0), "PNG"),
        "small margin, light falling to half": lambda d: paper_photo(
            ink_map(d, rng, margin=rng.uniform(0.02, 0.08)), rng, falloff=0.5
        ),
        "noise and JPEG quality 60": lambda d: paper_photo(
            ink_map(d, rng, margin=rng.uniform(0, 0.3)), rng, noise=8, quality=60
        ),
        "blue ink on ruled paper": lambda d: paper_photo(
            ink_map(d, rng, margin=rng.uniform(0.05, 0.4)),
            rng,
            ink_colour=(30, 50, 160),
            lines=(int(rng.integers(18, 40)), ruled_colour),
        ),  # fmt: skip
        "pencil on grey paper": lambda d: paper_photo(
            ink_map(d, rng, margin=rng.uniform(0.05, 0.4)), rng, paper=175, ink_colour=(115, 115, 120), noise=4
        ),
        "transparent PNG, no margin": lambda d: transparent(ink_map(d, rng, margin=0)),
    }


def transparent(ink: np.ndarray) -> bytes:
    """Black ink whose opacity is the stroke, on nothing."""
    rgba = np.zeros((*ink.shape, 4), np.float32)
    rgba[..., 3] = 255 * ink
    return encode(rgba, "PNG")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=500, help="test digits per condition")
    parser.add_argument("--samples", type=Path, help="also write one sample picture per condition here")
    args = parser.parse_args()
    data, model = load_mnist(), load_default_model()
    rng = np.random.default_rng(2026)
    indices = rng.choice(len(data.y_test), args.digits, replace=False)
    clean = predict_proba(model, data.x_test[indices] / np.float32(255)).argmax(1) == data.y_test[indices]
    print(f"{'condition':38s} {'read right':>10s} {'refused':>8s}")
    print(f"{'clean 28x28 test digits (baseline)':38s} {clean.mean():10.1%} {0:8d}")
    for name, make in conditions(rng).items():
        right = refused = 0
        for index in indices:
            reading = read_picture(model, load_image(make(data.x_test[index])))
            refused += reading is None
            right += reading is not None and reading.digit == data.y_test[index]
        print(f"{name:38s} {right / len(indices):10.1%} {refused:8d}", flush=True)
    if args.samples:
        args.samples.mkdir(parents=True, exist_ok=True)
        for name, make in conditions(np.random.default_rng(7)).items():
            index = int(np.flatnonzero(data.y_test == 4)[3])
            data_bytes = make(data.x_test[index])
            suffix = "jpg" if data_bytes[:2] == b"\xff\xd8" else "png"
            path = args.samples / f"photo-4-{name.split(',')[0].replace(' ', '-')}.{suffix}"
            path.write_bytes(data_bytes)
            print("wrote", path)


if __name__ == "__main__":
    main()
