"""Stress test: accuracy as the test digits drift from what the network was trained on.

Six controlled shifts, each from 0 (the digits as they are) to a strong dose: rotation, scale, stroke
thickness, blur, noise and a bar across the middle. Each is applied to the same test digits in one
batch of TensorFlow image operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from core.i18n import N_, Text
from core.models import predict_proba
from core.pictures.data import IMAGE_SIZE

SHIFTS = {  # name -> (strengths, unit); 0 leaves the digits unchanged
    "rotation": ((0, 10, 20, 30, 45, 60), "°"),
    "scale": ((1.0, 0.9, 0.8, 0.7, 0.6, 0.5), "×"),
    "thickness": ((0, 1, 2, -1), N_(" px")),  # + dilates, − erodes (3×3 steps)
    "blur": ((0.0, 0.5, 1.0, 1.5, 2.0), N_(" px σ")),
    "noise": ((0.0, 0.1, 0.2, 0.3, 0.4, 0.5), " σ"),
    "bar": ((0, 2, 4, 6, 8), N_(" px")),  # a black bar this tall across the middle
}
DIGITS = 1_000  # test digits each curve is measured on


def _transform(images: tf.Tensor, angle_degrees: float, scale: float) -> tf.Tensor:
    """Rotate by `angle_degrees` and scale by `scale` about the centre."""
    angle = math.radians(angle_degrees)
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    centre = (IMAGE_SIZE - 1) / 2
    # Output pixel (x, y) samples the input at A (x - c) + c, A = rotation / scale.
    transform = [cos, -sin, centre - cos * centre + sin * centre, sin, cos, centre - sin * centre - cos * centre, 0, 0]
    count = tf.shape(images)[0]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.tile(tf.constant([transform], tf.float32), [count, 1]),
        output_shape=tf.constant([IMAGE_SIZE, IMAGE_SIZE]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def shifted(images: np.ndarray, shift: str, strength: float, *, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) float32 in [0, 1], shifted by `strength` of `shift` (see SHIFTS)."""
    x = tf.constant(np.asarray(images, np.float32)[..., None])  # (N, 28, 28, 1)
    if shift == "rotation" and strength:
        x = _transform(x, strength, 1.0)
    elif shift == "scale" and strength != 1:
        x = _transform(x, 0.0, strength)
    elif shift == "thickness":
        for _ in range(abs(int(strength))):
            x = tf.nn.max_pool2d(x, 3, 1, "SAME") if strength > 0 else -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    elif shift == "blur" and strength:
        radius = int(math.ceil(3 * strength))
        taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * strength**2))
        kernel = np.outer(taps, taps) / np.outer(taps, taps).sum()
        x = tf.nn.conv2d(x, tf.constant(kernel[:, :, None, None], tf.float32), 1, "SAME")
    elif shift == "noise" and strength:
        x = x + tf.constant(np.random.default_rng(seed).normal(0, strength, x.shape), tf.float32)
    elif shift == "bar" and strength:
        top = (IMAGE_SIZE - int(strength)) // 2
        rows = np.ones((IMAGE_SIZE, 1, 1), np.float32)
        rows[top : top + int(strength)] = 0
        x = x * rows
    elif shift not in SHIFTS:
        raise ValueError(Text("unknown shift {shift!r}; choose one of {SHIFTS}", shift=shift, SHIFTS=", ".join(SHIFTS)))
    return tf.clip_by_value(x, 0.0, 1.0).numpy()[..., 0]


def shift_curves(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, *, on_progress: Callable[[float], None] | None = None
) -> dict[str, np.ndarray]:
    """{shift: (len(strengths),) accuracy at each of its SHIFTS strengths}."""
    curves, total = {}, sum(len(strengths) for strengths, _ in SHIFTS.values())
    done = 0
    for name, (strengths, _) in SHIFTS.items():
        accuracies = []
        for strength in strengths:
            moved = shifted(images, name, strength)
            accuracies.append(float((predict_proba(model, moved).argmax(axis=1) == labels).mean()))
            done += 1
            if on_progress is not None:
                on_progress(done / total)
        curves[name] = np.array(accuracies)
    return curves
