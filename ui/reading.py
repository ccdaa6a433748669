"""The live reading: the model in the sidebar reads a picture, its probabilities set by its temperature."""

from __future__ import annotations

import numpy as np

from core.calibration import with_temperature
from core.reading import Reading, read_image
from ui.models import active_label, active_model
from ui.trust import temperature


def read_calibrated(image: np.ndarray) -> Reading:
    """The active model's reading of its (28, 28) input, its probabilities softened or sharpened by its temperature."""
    reading = read_image(active_model(), image)
    scale = temperature(active_label())
    if scale is None:
        return reading
    return Reading(reading.image, with_temperature(reading.probabilities[None], scale)[0])
