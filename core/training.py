"""Training: the input pipeline that feeds (augmented) MNIST batches to a network."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from core.augment import augment_batch


def training_dataset(
    images: np.ndarray, labels: np.ndarray, *, batch_size: int, epochs: int, seed: int, augment: bool
) -> tf.data.Dataset:
    """Shuffled (B, 28, 28) float32 batches for `epochs` epochs; images stay uint8 until batched."""
    data = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
    data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size).repeat(epochs)

    def prepare(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = batch
        if augment:  # a different, reproducible distortion for every step
            return augment_batch(x, tf.stack([tf.constant(seed, tf.int64), step])), y
        return tf.cast(x, tf.float32) / 255.0, y

    return data.enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
