"""How long an upload takes to accept or refuse, and what it costs the server: the worst pictures and models.

    python -m bench.uploads

Baseline in the same run: decoding a small PNG screenshot of a digit. Medians of 5. Then every hostile
model from harness/hostile.py is uploaded in turn, as the app does it, and the server's memory peak
(this process's VmHWM; a model's check runs in a child process held to its own limit) is reported
against the peak before the first of them, with any file left in the temporary folder.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from core.pictures.data import load_mnist
from core.pictures.preprocess import MAX_PIXELS, load_image
from core.runs.child import warm_forkserver
from core.uploads import MAX_MODEL_MB, load_uploaded_model
from harness import hostile
from harness.hostile import png_header

ROOT = Path(__file__).resolve().parent.parent


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def median_seconds(load, data: bytes, repeats: int = 5) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            load(data)
            outcome = "accepted"
        except ValueError as error:
            outcome = f"refused: {error}"
        times.append(time.perf_counter() - started)
    return statistics.median(times), outcome


def status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


def hostile_models(test_images: np.ndarray) -> None:
    """Each hostile model once: time, outcome, and the server's memory peak across all of them."""
    folder = Path(tempfile.gettempdir())
    files_before, peak_before = set(folder.iterdir()), status_mb("VmHWM")
    print(f"\nhostile models (server peak before: {peak_before:.0f} MB)")
    for name, build in (hostile.REFUSED | hostile.UNUSUAL).items():
        data = build()
        started = time.perf_counter()
        try:
            load_uploaded_model(data, test_images)
            outcome = "accepted"
        except ValueError as error:
            outcome = f"refused: {error}"
        print(
            f"  {name:26s} {len(data) / 2**10:8.0f} KB  {(time.perf_counter() - started) * 1000:7.0f} ms  "
            f"{outcome[:90]}",
            flush=True,
        )
    left = set(folder.iterdir()) - files_before
    print(
        f"server memory peak across them: {status_mb('VmHWM'):.0f} MB (+{status_mb('VmHWM') - peak_before:.0f} MB); "
        f"files left in {folder}: {len(left)}"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    warm_forkserver()
    test_images = load_mnist().x_test

    def check_model(data: bytes):
        return load_uploaded_model(data, test_images)

    small = encode(Image.fromarray(rng.integers(0, 255, (280, 280), dtype=np.uint8)), "PNG")
    side = int(MAX_PIXELS**0.5) - 1
    photo = Image.fromarray(rng.integers(90, 110, (3000, 4000, 3), dtype=np.uint8))  # 12 MP of grain
    bomb = zipfile.ZipFile(buffer := io.BytesIO(), "w", zipfile.ZIP_DEFLATED)
    bomb.writestr("model.weights.h5", b"\0" * int(5 * MAX_MODEL_MB * 2**20))
    bomb.close()
    cases = [
        ("small PNG screenshot (baseline)", load_image, small),
        ("12 MP phone photo, JPEG", load_image, encode(photo, "JPEG", quality=70)),
        (
            f"{side}x{side} flat PNG, just under the pixel cap",
            load_image,
            encode(Image.new("L", (side, side), 200), "PNG"),
        ),
        ("PNG claiming 100,000 x 100,000 pixels", load_image, png_header(100_000, 100_000)),
        ("12 MP JPEG cut in half", load_image, encode(photo, "JPEG", quality=70)[:400_000]),
        (
            "shipped default model (.keras, 3.4 MB)",
            check_model,
            (ROOT / "assets" / "default_model.keras").read_bytes(),
        ),
        (f"zip bomb named .keras (unpacks to {5 * MAX_MODEL_MB:g} MB)", check_model, buffer.getvalue()),
    ]
    baseline = None
    for name, load, data in cases:
        seconds, outcome = median_seconds(load, data)
        baseline = baseline or seconds
        print(
            f"{name:55s} {len(data) / 2**20:6.2f} MB  {seconds * 1000:7.1f} ms  "
            f"{seconds / baseline:7.1f}x baseline  {outcome[:70]}",
            flush=True,
        )
    hostile_models(test_images)


if __name__ == "__main__":
    main()
