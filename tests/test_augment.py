import numpy as np
import tensorflow as tf

from core.pictures.augment import augment_batch
from core.training.loop import training_dataset


def test_augmentation_is_reproducible_and_keeps_digits_recognisable(mnist):
    images = mnist.x_train[:64]
    seed = tf.constant([3, 1], tf.int64)
    first, again = augment_batch(images, seed).numpy(), augment_batch(images, seed).numpy()
    other = augment_batch(images, tf.constant([3, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert first.shape == (64, 28, 28) and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1
    # A distortion, not a new picture: each result still resembles its source digit.
    correlation = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(first, images / 255.0, strict=True)]
    assert np.median(correlation) > 0.5


def test_training_dataset_converts_per_batch(mnist):
    data = training_dataset(mnist.x_train[:100], mnist.y_train[:100], batch_size=32, epochs=2, seed=0, augment=False)
    batches = list(data)
    assert len(batches) == 8  # ceil(100 / 32) per epoch, twice
    x, y = batches[0]
    assert x.dtype == tf.float32 and x.shape == (32, 28, 28) and float(tf.reduce_max(x)) <= 1.0
    assert y.dtype == tf.int32
