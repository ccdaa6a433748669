"""The Generate page's pictures: a strip of the denoising, the map of a 2-D latent with a drawing placed on it."""

from __future__ import annotations

import numpy as np

from core.figures.pictures import enlarge
from core.figures.style import GRID_GREY

MARK = (255, 75, 75)  # the visitor's drawing on the map: the app's accent red


def strip(frames: np.ndarray, *, factor: int = 3, gap: int = 4) -> np.ndarray:
    """(frames, 28, 28) in [0, 1] -> one uint8 picture, the frames left to right with a grey gap between."""
    tiles = [enlarge(frame, factor) for frame in frames]
    spacer = np.full((tiles[0].shape[0], gap), GRID_GREY, np.uint8)
    return np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1)


def map_picture(grid: np.ndarray, point: np.ndarray | None = None, *, reach: float = 2.0) -> np.ndarray:
    """(size, size, 28, 28) decoded digits -> one RGB picture; `point`, a latent (x, y), ringed in red where it lies."""
    size = grid.shape[0]
    mosaic = grid.transpose(0, 2, 1, 3).reshape(size * 28, size * 28)
    picture = np.repeat(enlarge(mosaic, 1)[..., None], 3, axis=2)
    if point is not None:
        x, y = (float(np.clip(v, -reach, reach)) for v in point)
        column = (x + reach) / (2 * reach) * (size * 28 - 1)
        row = (reach - y) / (2 * reach) * (size * 28 - 1)
        rows, columns = np.ogrid[: size * 28, : size * 28]
        ring = np.abs(np.hypot(rows - row, columns - column) - 12) < 2.5
        picture[ring] = MARK
    return picture
