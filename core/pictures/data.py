"""MNIST, read from the bundled file so the app runs with no network."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.i18n import Text

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
MNIST_PATH = ASSETS_DIR / "mnist.npz"
IMAGE_SIZE = 28  # pixels per side of an MNIST digit
NUM_CLASSES = 10  # the digits 0-9


class DataUnavailableError(RuntimeError):
    """MNIST is neither bundled nor downloadable; the message says how to fix it."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # (60000, 28, 28) uint8, 0 = black background, 255 = ink
    y_train: np.ndarray  # (60000,) uint8 digit labels
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8


def load_mnist(path: Path = MNIST_PATH) -> Mnist:
    """Load MNIST from `path`, falling back to Keras' download if the file is missing."""
    if Path(path).exists():
        with np.load(path) as f:
            return Mnist(f["x_train"], f["y_train"], f["x_test"], f["y_test"])
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # any download failure ends in the same advice
        raise DataUnavailableError(
            Text(
                "MNIST data not found at {path} and the download failed ({error}). Copy mnist.npz into the "
                "assets/ folder (see README) and restart.",
                path=path,
                error=error,
            )
        ) from error
    return Mnist(x_train, y_train, x_test, y_test)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, to tie a model card to the data it was trained on."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
