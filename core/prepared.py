"""Results computed ahead, so that a talk's chapter shows its point at once.

`python -m scripts.prepare` computes each kind of result for each shipped model (its answers on the test digits,
robustness curves, the stress test), and reference runs that train their own network (a Remember run per method,
from the data set), into assets/prepared/. A result carries the SHA-256 of the file it came from (the model, or the
data) and the settings it was computed with (which digits, which ε or shifts, the run's configuration): when either
no longer matches, the result is stale and `load` does not return it. Small arrays are JSON lists; a large one (the
test answers) is compressed float32 bytes in base64.
"""

from __future__ import annotations

import base64
import functools
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from core import attacks, shift
from core.models import predict_proba
from core.pictures.data import ASSETS_DIR, Mnist, file_sha256

PREPARED_DIR = ASSETS_DIR / "prepared"
LARGEST_LIST = 4096  # values of an array written as a JSON list; a larger one as compressed float32 bytes


def test_probabilities(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The model's (n, 10) probabilities of the digits: what Evaluate, Trust and Data start from, prepared so that a
    server's first visit to them does not compute them."""
    return {"probabilities": predict_proba(model, images)}


KINDS: dict[str, tuple[Callable, int, dict]] = {  # kind -> (compute, test digits, settings it depends on)
    "test": (test_probabilities, 10_000, {}),
    "robustness": (
        attacks.robustness_curves,
        attacks.CURVE_DIGITS,
        {"eps": list(attacks.CURVE_EPS), "attacks": list(attacks.CURVE_ATTACKS)},
    ),
    "shift": (shift.shift_curves, shift.DIGITS, {"shifts": {name: list(s) for name, (s, _) in shift.SHIFTS.items()}}),
}


def inputs(kind: str, data: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """(images in [0, 1], labels): the first test digits, as many as `kind` is measured on."""
    digits = KINDS[kind][1]
    return data.x_test[:digits] / np.float32(255), data.y_test[:digits]


def compute(model: keras.Model, kind: str, images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The result of `kind` for `model`, computed now on `inputs(kind, ...)`."""
    return KINDS[kind][0](model, images, labels)


def _settings(kind: str, settings: dict | None) -> dict:
    if settings is not None:
        return settings
    _, digits, fixed = KINDS[kind]
    return {"digits": digits, **fixed}


def _path(kind: str, model_file: Path) -> Path:
    return PREPARED_DIR / f"{kind}-{model_file.stem}.json"


@functools.lru_cache(maxsize=16)
def _checksum(path: Path, size: int, modified: float) -> str:
    return file_sha256(path)


@functools.lru_cache(maxsize=64)
def _record(path: Path, size: int, modified: float) -> dict:
    """A prepared file, parsed once per version of it: pages ask on every rerun."""
    return json.loads(path.read_text())


def checksum(model_file: Path) -> str:
    """The model file's SHA-256, read once per version of the file."""
    status = model_file.stat()
    return _checksum(model_file, status.st_size, status.st_mtime)


def save(kind: str, model_file: Path, result: dict, seconds: float, settings: dict | None = None) -> Path:
    """Write a result of `kind` computed from `model_file` (a model, or the data a reference run trained on)."""
    PREPARED_DIR.mkdir(exist_ok=True)
    path = _path(kind, model_file)
    record = {
        "kind": kind,
        "model_file": model_file.name,
        "model_sha256": checksum(model_file),
        "settings": _settings(kind, settings),
        "seconds_to_compute": round(seconds, 1),
        "result": {name: _encoded(values) for name, values in result.items()},
    }
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load(kind: str, model_file: Path, settings: dict | None = None) -> dict[str, np.ndarray] | None:
    """The prepared result of `kind` from `model_file` (and `settings`, for a reference run); None if there is none
    or it is stale."""
    path = _path(kind, model_file)
    try:
        status = path.stat()
        record = _record(path, status.st_size, status.st_mtime)
    except (OSError, ValueError):
        return None
    if record.get("model_sha256") != checksum(model_file) or record.get("settings") != _settings(kind, settings):
        return None
    return {name: _decoded(values) for name, values in record["result"].items()}


def test_answers(model_file: Path, model: Callable[[], keras.Model], data: Mnist) -> np.ndarray:
    """(10000, 10) probabilities of the model in `model_file` on the test digits, read-only (they are shared):
    prepared ahead, else computed now with `model()`."""
    result = load("test", model_file)
    if result is None:  # stale or missing
        result = compute(model(), "test", *inputs("test", data))
        result["probabilities"].setflags(write=False)
    return result["probabilities"]


def _encoded(values) -> list | dict:
    values = np.asarray(values)
    if values.size <= LARGEST_LIST:
        return values.tolist()
    packed = zlib.compress(np.ascontiguousarray(values, np.float32).tobytes(), 9)
    return {"shape": list(values.shape), "float32_zlib_base64": base64.b64encode(packed).decode()}


def _decoded(values: list | dict) -> np.ndarray:
    if isinstance(values, list):
        return np.asarray(values, np.float64)
    packed = base64.b64decode(values["float32_zlib_base64"])
    return np.frombuffer(zlib.decompress(packed), np.float32).reshape(values["shape"])  # read-only: it is shared
