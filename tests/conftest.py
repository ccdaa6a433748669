import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mnist():
    from core.pictures.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def default_model():
    from core.models import load_default_model

    return load_default_model()


def paste_digit(digit: np.ndarray, *, size: int, top: int, left: int, canvas: int = 280) -> np.ndarray:
    """An MNIST digit enlarged to `size` px and placed on a black canvas, as RGBA like the Draw page's."""
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    grey = np.zeros((canvas, canvas), np.uint8)
    grey[top : top + size, left : left + size] = big
    rgba = np.repeat(grey[..., None], 4, axis=2)
    rgba[..., 3] = 255
    return rgba


def chart_traces(chart) -> dict[str, dict]:
    """A plotly chart element's traces by name, decoded from its spec (not matched as text: JSON escapes vary)."""
    return {trace.get("name"): trace for trace in json.loads(chart.proto.spec)["data"]}
