"""Personalising: a copy of a digit network fine-tuned on a visitor's handwriting, with MNIST digits mixed in so
it does not forget the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from core.i18n import Text
from core.models import model_bytes, model_from_bytes, predict_proba
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES, Mnist
from core.runs.child import preload
from core.symbols import distorted

REPLAY = 2_000  # MNIST training digits mixed into a personalisation, so the rest is not forgotten
PERSONAL_COPIES = 16  # distorted copies of each of the visitor's drawings
PERSONAL_EPOCHS = 5
PERSONAL_RATE = 3e-4  # Adam; small, so the network adjusts rather than relearns (1e-3 cost 0.1 points of MNIST)


def personalise(
    model: keras.Model,
    images: np.ndarray,
    digits: np.ndarray,
    *,
    replay: Mnist,
    seed: int = 0,
    replay_digits: int = REPLAY,
    copies: int = PERSONAL_COPIES,
    on_progress: Callable[[float], None] | None = None,
) -> keras.Model:
    """A copy of `model` fine-tuned on a visitor's drawings of digits, with MNIST digits mixed in.

    images (n, 28, 28) in [0, 1], digits (n,) what each drawing means. Batch normalisation keeps its
    statistics (a few dozen drawings would skew them), and `replay_digits` training digits keep the rest in mind;
    each drawing is learnt in `copies` distorted copies.
    """
    images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    digits = np.asarray(digits)
    if len(images) == 0 or len(images) != len(digits):
        raise ValueError(Text("Add some drawings, each with the digit it means, first."))
    if digits.min() < 0 or digits.max() >= NUM_CLASSES:
        raise ValueError(Text("Each drawing must mean a digit from 0 to 9."))
    keras.utils.set_random_seed(seed)
    tuned = model_from_bytes(model_bytes(model))
    for layer in tuned.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False  # Keras 3: a frozen batch norm also runs in inference mode
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(replay.y_train), replay_digits, replace=False)
    pictures = np.concatenate([distorted(images, copies, seed=seed), replay.x_train[picked] / np.float32(255)])
    answers = np.concatenate([np.repeat(digits, copies), replay.y_train[picked]])
    tuned.compile(optimizer=keras.optimizers.Adam(PERSONAL_RATE), loss="sparse_categorical_crossentropy")
    steps = PERSONAL_EPOCHS * math.ceil(len(pictures) / 64)

    class Progress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None) -> None:
            self.done = getattr(self, "done", 0) + 1
            if on_progress is not None:
                on_progress(min(1.0, self.done / steps))

    tuned.fit(pictures, answers, epochs=PERSONAL_EPOCHS, batch_size=64, shuffle=True, verbose=0, callbacks=[Progress()])
    return tuned


@dataclass(frozen=True)
class BeforeAfter:
    """What personalising changed: shares read right before and after."""

    yours: tuple[float, float]  # the visitor's drawings
    test: tuple[float, float]  # MNIST's 10,000 test digits
    test_probabilities: np.ndarray  # (10000, 10) of the personalised model, for the other pages


def before_after(
    before: keras.Model,
    after: keras.Model,
    images: np.ndarray,
    digits: np.ndarray,
    data: Mnist,
    *,
    before_test_probabilities: np.ndarray | None = None,
) -> BeforeAfter:
    """Score a personalised model against the one it came from, on the visitor's drawings and the test set."""
    images, digits = np.asarray(images, np.float32), np.asarray(digits)
    tests = data.x_test / np.float32(255)
    old = predict_proba(before, tests) if before_test_probabilities is None else before_test_probabilities
    new = predict_proba(after, tests)

    def right(model_or_probabilities, truth, pictures=None) -> float:
        probabilities = model_or_probabilities if pictures is None else predict_proba(model_or_probabilities, pictures)
        return float((probabilities.argmax(axis=1) == truth).mean())

    return BeforeAfter(
        (right(before, digits, images), right(after, digits, images)),
        (right(old, data.y_test), right(new, data.y_test)),
        new,
    )


def personalised(
    model: keras.Model, images: np.ndarray, digits: np.ndarray, data: Mnist, before_test_probabilities: np.ndarray
) -> tuple[bytes, BeforeAfter]:
    """Personalise `model` and score it against the original: (the new model as a .keras file, the change).

    Bytes, so that it may run in a process of its own and hand its model back.
    """
    tuned = personalise(model, images, digits, replay=data)
    change = before_after(model, tuned, images, digits, data, before_test_probabilities=before_test_probabilities)
    return model_bytes(tuned), change


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
