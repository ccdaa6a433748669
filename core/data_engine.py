"""The data engine: drawings a network misread, labelled by the people who drew them, become a slice of data it is
fine-tuned on, with MNIST replayed so it keeps the rest; measured on drawings of the slice it never trained on.

The slice comes from the room's shared drawings (each with the digit its author meant) and a visitor's own
corrections on the Draw page. Anyone can write to the wall, so the tuned network is a new model for whoever ran the
engine: it never replaces a model another visitor uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.models import model_bytes
from core.personalise import before_after, personalize
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES, Mnist
from core.runs.child import preload

MIN_SLICE = 10  # drawings: half to tune on, half held out to measure, at least five each
MAX_SLICE = 400  # drawings the engine takes, the newest first: a bounded run whatever the wall holds
REPLAY = 4_000  # MNIST digits replayed: with 2,000 (Teach's) MNIST fell 0.3 points, with 4,000 about 0.1
COPIES = 8  # distorted copies of each drawing of the slice (bench/data_quality.py measures the turn)


@dataclass(frozen=True)
class Slice:
    """Drawings with the digits their authors meant: (n, 28, 28) in [0, 1] and (n,)."""

    images: np.ndarray
    meant: np.ndarray

    def __post_init__(self) -> None:
        if self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or len(self.images) != len(self.meant):
            raise ValueError("a slice is (n, 28, 28) drawings with one digit each")

    @classmethod
    def of(cls, images, meant) -> Slice:
        """The newest MAX_SLICE of the drawings given (oldest first), as floats in [0, 1]."""
        images = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)[-MAX_SLICE:]
        scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
        return cls(images.astype(np.float32) / scale, np.asarray(meant, np.int64)[-MAX_SLICE:])

    def halves(self, *, seed: int = 0) -> tuple[Slice, Slice]:
        """(to tune on, held out): a seeded shuffle cut in two, each with every digit it can get."""
        if len(self.meant) < MIN_SLICE:
            raise ValueError(
                f"The engine needs at least {MIN_SLICE} drawings with their digits; it has {len(self.meant)}."
            )
        if self.meant.min() < 0 or self.meant.max() >= NUM_CLASSES:
            raise ValueError("Each drawing must mean a digit from 0 to 9.")
        order = np.random.default_rng(seed).permutation(len(self.meant))
        order = order[np.argsort(self.meant[order], kind="stable")]  # by digit, shuffled within: alternate picks
        tune, held = order[0::2], order[1::2]
        return Slice(self.images[tune], self.meant[tune]), Slice(self.images[held], self.meant[held])


@dataclass(frozen=True)
class EngineResult:
    """What one turn of the engine changed: shares read right before and after."""

    slice_read: tuple[float, float]  # the held-out half of the slice
    test_read: tuple[float, float]  # MNIST's 10,000 test digits
    tuned_on: int  # drawings it was tuned on
    held_out: int  # drawings it was measured on
    seconds: float  # tuning and measuring
    test_probabilities: np.ndarray  # (10000, 10) of the tuned model, for the other pages


def turn(model, tune: Slice, held: Slice, data: Mnist, before_test_probabilities: np.ndarray, *, seed: int = 0):
    """One turn of the engine: tuned on `tune`, measured on `held`; (the tuned model as a .keras file, what it
    changed). `model` itself is not touched.

    Bytes, so that it may run in a process of its own and hand its model back.
    """
    started = time.perf_counter()
    tuned = personalize(model, tune.images, tune.meant, replay=data, seed=seed, replay_digits=REPLAY, copies=COPIES)
    change = before_after(
        model, tuned, held.images, held.meant, data, before_test_probabilities=before_test_probabilities
    )
    seconds = time.perf_counter() - started
    result = EngineResult(
        change.yours, change.test, len(tune.meant), len(held.meant), seconds, change.test_probabilities
    )
    return model_bytes(tuned), result


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
