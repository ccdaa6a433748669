"""Random distortions that make MNIST digits look like digits drawn on a canvas."""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation: float = 12.0  # degrees either way; people tilt their digits a little
    max_scale: float = 0.12  # relative size change either way; preprocessing fixes the box, not the stroke
    max_shift: float = 2.0  # pixels either way; the centre of mass is centred, the shape is not
    max_shear: float = 0.15  # slant, as a fraction of the height
    max_thickness: float = 0.7  # strength of the random stroke thinning/thickening in [0, 1]


def augment_batch(images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """(B, 28, 28) uint8 -> (B, 28, 28) float32 in [0, 1], each image distorted at random."""
    x = tf.cast(images, tf.float32)[..., None] / 255.0  # (B, 28, 28, 1)
    batch = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(seed, 6)

    def uniform(i: int, limit: float) -> tf.Tensor:
        return tf.random.stateless_uniform([batch], seeds[i], -limit, limit)

    angle = uniform(0, math.radians(config.max_rotation))
    scale = 1.0 + uniform(1, config.max_scale)
    shear = uniform(2, config.max_shear)
    shift_x, shift_y = uniform(3, config.max_shift), uniform(4, config.max_shift)
    # Output pixel (x, y) samples input at A (x - c) + c + shift, A = rotation @ shear / scale.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    a0, a1 = cos, cos * shear - sin
    b0, b1 = sin, sin * shear + cos
    centre = 13.5
    a2 = centre - a0 * centre - a1 * centre + shift_x
    b2 = centre - b0 * centre - b1 * centre + shift_y
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)  # (B, 8)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=transforms,
        output_shape=tf.constant([28, 28]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    # Stroke thickness: blend towards a 3x3 dilation (thicker pen) or erosion (thinner pen).
    amount = tf.reshape(uniform(5, config.max_thickness), (-1, 1, 1, 1))
    dilated = tf.nn.max_pool2d(x, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    x = tf.where(amount > 0, x + amount * (dilated - x), x - amount * (eroded - x))
    return tf.clip_by_value(x[..., 0], 0.0, 1.0)
