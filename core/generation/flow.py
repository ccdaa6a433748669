"""The flow's path and its Euler steps: x_t = (1 − t)·z + t·x from noise z (t = 0) to a picture x (t = 1), the
network's guided velocity, and inpainting by putting the known pixels back on their own path after every step."""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from core.generation.networks import NULL, TIME_FEATURES, time_features
from core.models import graphs_kept
from core.pictures.data import IMAGE_SIZE


def noised(x: np.ndarray, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The flow's path: x_t = (1 − t)·z + t·x, from noise z at t = 0 to the picture x (in [−1, 1]) at t = 1."""
    t = np.asarray(t, np.float32).reshape(-1, *([1] * (np.ndim(x) - 1)))
    return (1.0 - t) * z + t * x


_traced: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a kept network -> its traced forward pass


def _forward(network: keras.Model):
    """The network's forward pass: traced once into a graph for a network kept for the server (a shipped generator,
    core.models.kept_for_server), eager for any other (a test's tiny one), as core.models does for classifiers."""
    if not graphs_kept(network):
        return lambda x, times, classes: network([x, times, classes], training=False)
    if network not in _traced:
        held = weakref.ref(network)
        _traced[network] = tf.function(
            lambda x, times, classes: held()([x, times, classes], training=False),
            input_signature=[
                tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32),
                tf.TensorSpec((None, TIME_FEATURES), tf.float32),
                tf.TensorSpec((None,), tf.int32),
            ],
        )
    return _traced[network]


def velocity(network: keras.Model, x: np.ndarray, t: float, labels: np.ndarray, guidance: float) -> np.ndarray:
    """The guided velocity at x (N, 28, 28) and time t: v_u + w·(v_c − v_u); a row without a class is v_u."""
    count = len(x)
    conditional = labels >= 0
    both = np.concatenate([x, x])[..., None].astype(np.float32)
    classes = np.concatenate([np.where(conditional, labels, NULL), np.full(count, NULL)]).astype(np.int32)
    times = time_features(np.full(2 * count, t, np.float32))
    out = np.asarray(_forward(network)(both, times, classes))[..., 0]
    with_class, without = out[:count], out[count:]
    return without + guidance * (with_class - without)


def as_pixels(x: np.ndarray) -> np.ndarray:
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def run(network, x, labels, *, start: float, steps: int, guidance: float, every: int = 0, known=None):
    """Euler steps from time `start` to 1. With `known` = (mask, picture, noise), the known pixels are put back on
    their own path after every step (inpainting by replacement). Returns (final, frames every `every` steps)."""
    times = np.linspace(start, 1.0, steps + 1, dtype=np.float32)
    frames = []
    for index in range(steps):
        t, dt = times[index], times[index + 1] - times[index]
        if every and index % every == 0:
            frames.append(as_pixels(x))
        x = x + dt * velocity(network, x, float(t), labels, guidance)
        if known is not None:
            mask, picture, noise = known
            x = np.where(mask, noised(picture, noise, np.full(len(x), times[index + 1])), x)
    if every:
        frames.append(as_pixels(x))
    return x, frames


# ---- the VAE baseline
