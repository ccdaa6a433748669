"""28x28 pictures made visible: enlarged with a pixel grid, attributions and weights in red and blue, PNG files."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from core.figures.style import GRID_GREY


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


def png_bytes(image: np.ndarray, *, factor: int = 10) -> bytes:
    """A (28, 28) image in [0, 1] as a PNG file, each pixel a crisp `factor`-wide square."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(image, factor)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A (28, 28) uint8 picture as an inline PNG: the wall needs no file server and no network."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image / np.float32(255), factor=1)).decode()
