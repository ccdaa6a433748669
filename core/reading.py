"""Reading one picture: preprocess it like MNIST, then ask the network."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from core.models import predict_proba
from core.pictures.preprocess import to_mnist

UNSURE_BELOW = 0.8  # top probability under which the app says the network is not sure: 1 in 5 wrong, calibrated


@dataclass(frozen=True)
class Reading:
    image: np.ndarray  # (28, 28) float32 in [0, 1]: what the network saw
    probabilities: np.ndarray  # (10,) float32, summing to 1

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])


def read_image(model: keras.Model, image: np.ndarray) -> Reading:
    """The network's (28, 28) input -> its reading."""
    return Reading(image, predict_proba(model, image[None])[0])


def read_picture(model: keras.Model, picture: np.ndarray) -> Reading | None:
    """A picture of one digit -> the network's reading of it; None if the picture has no ink."""
    image = to_mnist(picture)
    return None if image is None else read_image(model, image)
