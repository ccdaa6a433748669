"""load_image: every picture a visitor may upload decodes; anything else is refused with a ValueError."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.pictures.preprocess import MAX_IMAGE_MB, MAX_PIXELS, load_image, to_mnist
from harness.hostile import png_header
from harness.photos import paste_digit


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def digit_photo(digit: np.ndarray, *, seed: int = 0, light: int = 210) -> np.ndarray:
    """(H,W) uint8: a dark digit on grainy paper lit from one side, as a phone would photograph it."""
    rng = np.random.default_rng(seed)
    ink = paste_digit(digit, size=220, top=60, left=140, canvas=400)[..., 0] / 255.0
    height, width = ink.shape
    paper = np.linspace(light - 60, light, width)[None, :] + rng.normal(0, 5, (height, width))
    return np.clip(paper * (1 - 0.75 * ink), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def reference(mnist):
    """What the network sees of digit_photo(test digit 0) saved as a plain grey PNG."""
    return to_mnist(load_image(encode(Image.fromarray(digit_photo(mnist.x_test[0])), "PNG")))


def similarity(image: np.ndarray, reference: np.ndarray) -> float:
    """Correlation of what the network sees (a rotated or different digit scores below 0.2)."""
    return float(np.corrcoef(to_mnist(image).ravel(), reference.ravel())[0, 1])


def test_the_reference_photo_looks_like_its_mnist_digit(mnist, reference):
    assert np.corrcoef(reference.ravel(), to_mnist(mnist.x_test[0]).ravel())[0, 1] > 0.85


def good_files(grey: np.ndarray) -> dict[str, bytes]:
    """The same photo in every format, mode and polarity the Draw page accepts."""
    picture = Image.fromarray(grey)
    rgb = Image.merge("RGB", (picture, picture.point(lambda v: v * 0.95), picture.point(lambda v: v * 0.85)))
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
    transparent = Image.new("LA", picture.size)
    transparent.putalpha(picture.point(lambda v: 255 if v < 100 else 0))  # black strokes on nothing
    return {
        "png grey": encode(picture, "PNG"),
        "png 16-bit": encode(sixteen, "PNG"),
        "png rgba transparent": encode(transparent.convert("RGBA"), "PNG"),
        "png light on dark": encode(Image.fromarray(255 - grey), "PNG"),
        "jpeg rgb": encode(rgb, "JPEG", quality=75),
        "jpeg grey": encode(picture, "JPEG", quality=75),
        "jpeg cmyk": encode(rgb.convert("CMYK"), "JPEG", quality=90),
        "webp": encode(rgb, "WEBP", quality=80),
        "bmp": encode(rgb, "BMP"),
        "bmp 1-bit": encode(picture.point(lambda v: 255 if v > 120 else 0).convert("1"), "BMP"),
        "gif palette": encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
    }


def test_every_accepted_kind_of_picture_gives_the_same_digit(mnist, reference):
    for name, data in good_files(digit_photo(mnist.x_test[0])).items():
        image = load_image(data)
        assert image.dtype == np.uint8 and image.ndim in (2, 3), name
        assert similarity(image, reference) > 0.9, name


def test_an_animated_gif_gives_its_first_frame(mnist, reference):
    frames = [Image.fromarray(digit_photo(mnist.x_test[0])), Image.fromarray(digit_photo(mnist.x_test[1]))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert similarity(load_image(data), reference) > 0.95


def test_a_sideways_phone_photo_is_turned_upright(mnist, reference):
    stored = Image.fromarray(digit_photo(mnist.x_test[0])).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; rotate 90° clockwise to view
    data = encode(stored, "JPEG", quality=85, exif=exif)
    assert similarity(load_image(data), reference) > 0.95


def test_a_large_photo_is_reduced_to_the_working_size(mnist):
    photo = Image.fromarray(digit_photo(mnist.x_test[0])).resize((4000, 3000))
    image = load_image(encode(photo, "JPEG", quality=70))
    assert max(image.shape[:2]) <= 1024


def test_photos_under_uneven_light_are_read(mnist, default_model):
    from core.reading import read_picture

    digits = range(30)
    readings = [
        read_picture(
            default_model, load_image(encode(Image.fromarray(digit_photo(mnist.x_test[i], seed=i)), "JPEG", quality=80))
        )
        for i in digits
    ]
    assert sum(r.digit == mnist.y_test[i] for r, i in zip(readings, digits, strict=True)) >= 28


BAD_FILES = {
    "empty": (b"", "empty"),
    "text": (b"hello, this is not a picture" * 10, "cannot read this file"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle r="9"/></svg>', "SVG"),
    "svg with xml header": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    "heic": (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 100, "HEIC"),
    "decompression bomb": (png_header(100_000, 100_000), "megapixels|too many pixels"),
    "absurd width": (png_header(2**31 - 1, 1), "megapixels|too many pixels"),
    "just over the pixel cap": (png_header(MAX_PIXELS // 1000 + 1, 1000), "megapixels"),
    "too small": (encode(Image.new("L", (4, 4)), "PNG"), "at least"),
    "too big a file": (b"\x89PNG" + b"\0" * int(MAX_IMAGE_MB * 2**20), "MB"),
    "tiff is not accepted": (encode(Image.new("L", (40, 40)), "TIFF"), "cannot read this file"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_unusable_files_are_refused_with_a_reason(name):
    data, reason = BAD_FILES[name]
    with pytest.raises(ValueError, match=reason):
        load_image(data)


def test_a_truncated_picture_is_refused(mnist):
    for format in ("PNG", "JPEG", "WEBP", "BMP"):
        data = encode(Image.fromarray(digit_photo(mnist.x_test[0])), format)
        with pytest.raises(ValueError):
            load_image(data[: len(data) // 2])


SAMPLE_FILES = [
    encode(Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 48, 3), dtype=np.uint8)), format)
    for format in ("PNG", "JPEG", "WEBP", "BMP", "GIF")
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLE_FILES),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
)
def test_damaged_files_give_a_picture_or_a_value_error_never_anything_else(sample, cut, flips):
    data = bytearray(sample[: max(1, int(len(sample) * (0.5 + cut / 2)))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    try:
        image = load_image(bytes(data))
    except ValueError as error:
        assert str(error) and "\n" not in str(error)  # one line the page can show
    else:
        assert image.dtype == np.uint8 and image.ndim in (2, 3)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_value_error(data):
    with pytest.raises(ValueError):
        load_image(data)
