"""Synthetic photos of digits as people upload them, made from MNIST digits (bench/photos.py, tests)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def paste_digit(digit: np.ndarray, *, size: int, top: int, left: int, canvas: int = 280) -> np.ndarray:
    """An MNIST digit enlarged to `size` px and placed on a black canvas, as RGBA like the Draw page's."""
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    grey = np.zeros((canvas, canvas), np.uint8)
    grey[top : top + size, left : left + size] = big
    rgba = np.repeat(grey[..., None], 4, axis=2)
    rgba[..., 3] = 255
    return rgba


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
        ),
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
