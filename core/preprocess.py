"""Turn a picture of one digit into the 28x28 input the network expects, the way MNIST was made."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.data import IMAGE_SIZE

DIGIT_BOX = 20  # MNIST fitted each digit's longer side into a 20x20 box (aspect ratio kept)
CENTRE = 14.0  # MNIST's mean centre of mass, in pixel indices (measured: 13.996, 14.007)
MIN_CONTRAST = 0.1  # weakest ink/background difference (of full scale) that counts as ink
MIN_NOISE_FLOOR = 0.02  # ink below this fraction of the peak is treated as background
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 weights of R, G, B in grey


def to_grey_ink(image: np.ndarray) -> np.ndarray:
    """(H,W), (H,W,3) or (H,W,4) uint8 -> (H,W) float32 ink: 0 = background (noise around it), 1 = full."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected a (H,W), (H,W,3) or (H,W,4) image, got shape {image.shape}")
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        if alpha.min() < 255:  # strokes on a transparent layer: opacity is the ink
            return alpha.astype(np.float32) / 255.0
        image = image[..., :3]
    if image.ndim == 3:
        pixels = image.astype(np.float32) @ (LUMA / 255.0)
    else:
        pixels = image.astype(np.float32) / 255.0
    background = float(np.median(pixels[::2, ::2]))  # most of the picture is background; a quarter shows it
    if background > 0.5 * (float(pixels.min()) + float(pixels.max())):
        pixels, background = 1.0 - pixels, 1.0 - background  # dark ink on light paper
    return pixels - background


def _median3x3(image: np.ndarray) -> np.ndarray:
    """3x3 median filter: removes isolated specks of noise, keeps strokes."""
    padded = np.pad(image, 1, mode="edge")
    height, width = image.shape
    shifted = [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
    return np.median(np.stack(shifted), axis=0)


def to_mnist(image: np.ndarray) -> np.ndarray | None:
    """A picture of one digit -> (28,28) float32 in [0,1], light on black; None if there is no ink."""
    ink = to_grey_ink(np.asarray(image))
    sample = ink[::2, ::2]  # a quarter of the pixels estimates the background as well, 4x faster
    noise = float(np.median(np.abs(sample - np.median(sample))))  # paper grain, sensor noise; 0 on a canvas
    peak = float(ink.max())
    if peak < max(MIN_CONTRAST, 8.0 * noise):
        return None
    ink = np.clip(ink, 0.0, None) / peak
    if noise > 0:
        ink = _median3x3(ink)
    ink[ink < max(MIN_NOISE_FLOOR, 6.0 * noise / peak)] = 0.0
    if not ink.any():
        return None

    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = DIGIT_BOX / max(crop.shape)  # output pixels per input pixel
    mass = crop.sum()
    centre_y = crop.sum(axis=1) @ np.arange(crop.shape[0]) / mass
    centre_x = crop.sum(axis=0) @ np.arange(crop.shape[1]) / mass

    # Resample, in one step, the window of the input that maps onto the 28x28 field with the
    # centre of mass on MNIST's centre. Coordinates are continuous: pixel i spans [i, i + 1].
    window = IMAGE_SIZE / scale
    margin = int(np.ceil(window))  # zeros around the crop so the window never leaves the image
    padded = np.pad(crop, margin)
    left = margin + centre_x + 0.5 - (CENTRE + 0.5) / scale
    top = margin + centre_y + 0.5 - (CENTRE + 0.5) / scale
    # Box filtering averages every input pixel when shrinking (true anti-aliasing);
    # bilinear keeps small drawings smooth when they are enlarged.
    resample = Image.Resampling.BOX if scale <= 1 else Image.Resampling.BILINEAR
    field = Image.fromarray(padded.astype(np.float32)).resize(
        (IMAGE_SIZE, IMAGE_SIZE), resample, box=(left, top, left + window, top + window)
    )
    field = np.clip(np.asarray(field, dtype=np.float32), 0.0, None)
    return field / field.max()  # MNIST strokes reach full intensity; thin pen lines would not
