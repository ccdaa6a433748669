"""Turn a picture of one digit into the 28x28 input the network expects, the way MNIST was made."""

from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps

from core.i18n import Text
from core.pictures.data import IMAGE_SIZE

DIGIT_BOX = 20  # MNIST fitted each digit's longer side into a 20x20 box (aspect ratio kept)
CENTRE = 14.0  # MNIST's mean centre of mass, in pixel indices (measured: 13.996, 14.007)
MIN_CONTRAST = 0.1  # weakest ink/background difference (of full scale) that counts as ink
MIN_NOISE_FLOOR = 0.02  # ink below this fraction of the peak is treated as background
LIGHT_SIDE = 64  # pixels; the picture's longer side when its lighting is estimated
RULED_LINE_LEVEL = 0.15  # a row whose median ink is above this (of the peak) is a printed line
RULED_LINE_WIDTH = 0.02  # a printed line is at most this share of the picture thick
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 weights of R, G, B in grey

MAX_IMAGE_MB = float(os.environ.get("DIGITLAB_MAX_IMAGE_MB", "5"))  # largest picture file a visitor may upload
MAX_PIXELS = 25_000_000  # largest picture, checked from its header before decoding (a 12 MP photo is 12,000,000)
WORKING_SIDE = 1024  # pixels; larger pictures are reduced to this first (a digit needs only 20)
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")  # Pillow decoders we allow; no other code sees the bytes


def to_grey_ink(image: np.ndarray) -> np.ndarray:
    """(H,W), (H,W,3) or (H,W,4) uint8 -> (H,W) float32 ink: 0 = background (noise around it), 1 = full."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(Text("expected a (H,W), (H,W,3) or (H,W,4) image, got shape {shape}", shape=image.shape))
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        if alpha.min() < 255:  # strokes on a transparent layer: opacity is the ink
            return alpha.astype(np.float32) / 255.0
        image = image[..., :3]
    if image.ndim == 3:
        pixels = image.astype(np.float32) @ (LUMA / 255.0)
    else:
        pixels = image.astype(np.float32) / 255.0
    # The border is background even when the digit fills the frame: a stroke crosses it, never runs along it.
    if not _dark_ink(pixels):  # light ink on a dark ground: a screen, chalk on a board
        return pixels - _background(pixels)
    pixels = 1.0 - pixels  # dark ink on light paper: ink is what the paper stops reflecting
    background = _background(pixels)  # 1 - the paper's brightness, which varies across a photo lit from one side
    return (pixels - background) / np.maximum(1.0 - background, 0.05)


def _dark_ink(pixels: np.ndarray) -> bool:
    """Whether (H,W) grey shows dark ink on a light ground, judged by the outer ring of the picture.

    The ring (a twentieth of the shorter side wide) is background even when the digit fills the frame:
    a stroke crosses it rather than running along it. Where it is split, as around a "1" cropped to its
    ink, the common case decides: dark ink on light paper.
    """
    ring = max(1, min(pixels.shape) // 20)
    edges = np.concatenate(
        [pixels[:ring].ravel(), pixels[-ring:].ravel(), pixels[:, :ring].ravel(), pixels[:, -ring:].ravel()]
    )
    low, high = np.percentile(pixels[::2, ::2], [1, 99])
    light_share = float(np.mean(edges > 0.5 * (low + high)))
    return light_share >= 0.3


def _background(pixels: np.ndarray) -> np.ndarray | float:
    """The background's level under every pixel of (H,W) grey with bright ink: even, or lit unevenly in a photo.

    Light across a page is smooth, so it is fitted as a quadratic surface to the background alone:
    pixels far above the fit are ink and are left out of the next fit, however much of the frame the
    digit fills (a fit starting from the darker half of a reduced copy; four rounds).
    """
    if min(pixels.shape) < 32 or _noise(pixels) == 0:  # small, or a flat digital background (a canvas)
        return float(np.percentile(pixels[::2, ::2], 10))
    height, width = pixels.shape
    scale = LIGHT_SIDE / max(height, width)
    reduced = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = np.asarray(Image.fromarray(pixels).resize(reduced, Image.Resampling.BOX), dtype=np.float64)
    terms = _quadratic_terms(*small.shape)  # (h*w, 6)
    values = small.ravel()
    keep = values <= np.median(values)
    for _ in range(4):
        coefficients, *_ = np.linalg.lstsq(terms[keep], values[keep], rcond=None)
        residual = values - terms @ coefficients
        spread = 1.4826 * float(np.median(np.abs(residual[keep]))) + 1e-4
        keep = residual < 2.5 * spread
    return (_quadratic_terms(height, width) @ coefficients).reshape(height, width).astype(np.float32)


def _quadratic_terms(height: int, width: int) -> np.ndarray:
    """(height*width, 6): 1, x, y, x², xy, y² over the picture, with x and y in [-1, 1]."""
    y, x = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    x, y = x.ravel(), y.ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def _median3x3(image: np.ndarray) -> np.ndarray:
    """3x3 median filter: removes isolated specks of noise, keeps strokes."""
    padded = np.pad(image, 1, mode="edge")
    height, width = image.shape
    shifted = [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
    return np.median(np.stack(shifted), axis=0)


def _noise(pixels: np.ndarray) -> float:
    """Standard deviation of pixel noise, from differences of neighbours: stroke edges are too few to matter."""
    differences = np.abs(np.diff(pixels[::2], axis=1))
    return float(np.median(differences)) / (0.6745 * np.sqrt(2))


def _without_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Ink (H,W) in [0,1] without a notebook's printed lines: thin rows (or columns) inked along their length.

    A stroke crosses a row; a printed line runs along it, so the row's median is high. A horizontal
    stroke can do that too in a tight crop (the bar of a 7), but it is thick and alone: printed lines
    are thin (at most 2% of the picture) and come several to a page.
    """
    for axis in (1, 0):  # rows (ruled paper), then columns (squared paper)
        level = np.median(ink, axis=axis)  # (H,) for rows
        inked = level > RULED_LINE_LEVEL
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inked.astype(np.int8), [0]])))
        runs = list(zip(edges[::2], edges[1::2], strict=True))  # [start, stop) of each band of inked rows
        thin = [(start, stop) for start, stop in runs if stop - start <= max(2, RULED_LINE_WIDTH * len(level))]
        if len(thin) < 2:
            continue
        lines = np.zeros_like(inked)
        for start, stop in thin:
            lines[start:stop] = True
        ink = np.clip(ink - np.expand_dims(np.where(lines, level, 0.0), axis), 0.0, None)
    return ink


def to_mnist(image: np.ndarray) -> np.ndarray | None:
    """A picture of one digit -> (28,28) float32 in [0,1], light on black; None if there is no ink."""
    ink = to_grey_ink(np.asarray(image))
    noise = _noise(ink)  # paper grain, sensor noise; 0 on a canvas
    peak = float(np.percentile(ink, 99.9)) if noise > 0 else float(ink.max())  # a lone hot pixel is no stroke
    if peak < max(MIN_CONTRAST, 8.0 * noise):
        return None
    ink = np.clip(ink, 0.0, None) / peak
    if noise > 0:  # a photo or scan (a canvas has no grain, and no printed lines)
        ink = _median3x3(_without_ruled_lines(np.minimum(ink, 1.0)))
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
    left = centre_x + 0.5 - (CENTRE + 0.5) / scale
    top = centre_y + 0.5 - (CENTRE + 0.5) / scale
    # Zeros around the crop where the window reaches past it, and no more: padding every side by a
    # whole window made a canvas's 200 px digit a 760 px square, most of a reading's CPU time.
    pad_top, pad_left = max(0, int(np.ceil(-top)) + 1), max(0, int(np.ceil(-left)) + 1)
    pad_bottom = max(0, int(np.ceil(top + window - crop.shape[0])) + 1)
    pad_right = max(0, int(np.ceil(left + window - crop.shape[1])) + 1)
    padded = np.pad(np.asarray(crop, dtype=np.float32), ((pad_top, pad_bottom), (pad_left, pad_right)))
    left, top = left + pad_left, top + pad_top
    # Box filtering averages every input pixel when shrinking (true anti-aliasing);
    # bilinear keeps small drawings smooth when they are enlarged.
    resample = Image.Resampling.BOX if scale <= 1 else Image.Resampling.BILINEAR
    box = (left, top, left + window, top + window)
    field = Image.fromarray(padded).resize((IMAGE_SIZE, IMAGE_SIZE), resample, box=box)
    field = np.clip(np.asarray(field, dtype=np.float32), 0.0, None)
    return field / field.max()  # MNIST strokes reach full intensity; thin pen lines would not


def _refuse_known_non_images(data: bytes) -> None:
    """Name the formats people try most that are not pictures we decode."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        raise ValueError(Text("This is a PDF document, not a picture. Export the page as PNG or JPEG and upload that."))
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise ValueError(Text("SVG drawings are not supported. Export it as PNG and upload that."))
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        raise ValueError(Text("HEIC/AVIF photos are not supported. Save or share the photo as JPEG and upload that."))


def _to_8bit(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> L, RGB or RGBA with 8 bits per channel."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I;16"):  # 16-bit grey: keep the top 8 bits
        return Image.fromarray((np.asarray(image).astype(np.uint32) // 257).astype(np.uint8))
    if image.mode in ("I", "F"):  # 32-bit grey of unknown range: stretch it to 0-255
        values = np.asarray(image, dtype=np.float64)
        span = max(float(values.max() - values.min()), 1e-12)
        return Image.fromarray(((values - values.min()) * (255 / span)).astype(np.uint8))
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("LA", "La", "PA", "RGBa") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def load_image(data: bytes) -> np.ndarray:
    """Decode an uploaded picture -> (H,W), (H,W,3) or (H,W,4) uint8, at most WORKING_SIDE per side.

    Raises ValueError with a one-line reason a visitor can act on for anything that is not a usable
    picture: empty, too large, not an image, damaged, a decompression bomb.
    """
    if not data:
        raise ValueError(Text("The file is empty."))
    if len(data) > MAX_IMAGE_MB * 2**20:
        raise ValueError(
            Text(
                "The file is {value:.1f} MB; pictures may be up to {MAX_IMAGE_MB:g} MB.",
                value=len(data) / 2**20,
                MAX_IMAGE_MB=MAX_IMAGE_MB,
            )
        )
    _refuse_known_non_images(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(Text("The picture claims too many pixels to be a real photo.")) from None
        except Exception:  # Pillow signals unknown formats with several exception types
            raise ValueError(
                Text("Digit Lab cannot read this file as a picture. Upload a PNG, JPEG, WebP, BMP or GIF.")
            ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        megapixels = Text(
            "{width:,}×{height:,} pixels; the limit is {value:g} megapixels",
            width=width,
            height=height,
            value=MAX_PIXELS / 1e6,
        )
        raise ValueError(Text("The picture is {megapixels}. Make it smaller and try again.", megapixels=megapixels))
    if width < 8 or height < 8:
        raise ValueError(
            Text("The picture is only {width}×{height} pixels; a digit needs at least 8×8.", width=width, height=height)
        )
    try:
        image.draft(None, (WORKING_SIDE, WORKING_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, much faster
        image.load()  # the first frame of an animation
        image = _to_8bit(ImageOps.exif_transpose(image))  # photos from phones are often stored sideways
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BOX)
        return np.asarray(image, dtype=np.uint8).copy()
    except Exception:  # damaged data fails deep inside decoders with assorted exception types
        raise ValueError(Text("The picture is damaged or incomplete. Try saving it again.")) from None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header (its first 24 bytes), without decoding; None if it is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def read_canvas(data: bytes, size: int) -> np.ndarray | None:
    """The canvas's PNG -> the network's (28, 28) float32 input; None if nothing is drawn.

    The drawing canvas sends a PNG of exactly its CSS size at any device pixel ratio, so a value of any other size
    did not come from it: it is refused from its header, before a pixel is decoded (a 0.66 MB PNG can hold
    11,000 × 11,000 pixels). ValueError with a plain reason for anything else that is not the canvas's picture.
    """
    if png_size(data) != (size, size):
        raise ValueError(Text("The drawing did not come from this page's canvas: clear it and draw again."))
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        if image.size != (size, size):
            raise ValueError
        image.load()
        pixels = np.asarray(_to_8bit(image), dtype=np.uint8)
    except Exception:  # a damaged PNG fails inside the decoder with assorted exception types
        raise ValueError(Text("The drawing arrived damaged: clear the canvas and draw again.")) from None
    return to_mnist(pixels)
