"""The encoder learnt without labels (SimCLR, Chen et al. 2020): two distorted views of each digit are pulled
together and pushed apart from the other digits of the batch, so that what survives a distortion (the digit's
shape) is what its 128 features keep."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.pictures.augment import AugmentConfig, augment_batch
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE

ENCODER_PATH = ASSETS_DIR / "encoder.keras"
FEATURES = 128
# Stronger than training's canvas-like distortions (core.pictures.augment's defaults): a view must not keep the
# pixels' exact places, or the task is solved by them; a cut-out square makes it look at the whole digit.
VIEWS = AugmentConfig(max_rotation=20.0, max_scale=0.25, max_shift=4.0, max_shear=0.3, max_thickness=1.0)
MAX_CUT = 7  # half the side of the largest square cut out of a view, in pixels


def build_encoder(widths: tuple[int, ...] = (32, 64, 128)) -> keras.Model:
    """(B, 28, 28) in [0, 1] -> (B, FEATURES): a 3x3 convolution, batch norm and ReLU per width, pooled between."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    for index, width in enumerate(widths):
        if index:
            x = layers.MaxPooling2D(2)(x)
        for _repeat in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(FEATURES, use_bias=False)(x)
    features = layers.BatchNormalization(name="features")(x)
    return keras.Model(inputs, features, name="encoder")


def build_projector(size: int = 64) -> keras.Model:
    """SimCLR's projection head: the contrastive loss is taken on its output, and it is dropped after training."""
    inputs = keras.Input((FEATURES,))
    x = layers.Dense(FEATURES, activation="relu")(layers.Activation("relu")(inputs))
    return keras.Model(inputs, layers.Dense(size)(x), name="projector")


def cut_out(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(B, 28, 28): each picture with a square of random place and size (0 to 2·MAX_CUT + 1 pixels) set to black."""
    batch = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(seed, 3)
    centre_x = tf.random.stateless_uniform([batch, 1, 1], seeds[0], 0, IMAGE_SIZE, tf.int32)
    centre_y = tf.random.stateless_uniform([batch, 1, 1], seeds[1], 0, IMAGE_SIZE, tf.int32)
    half = tf.random.stateless_uniform([batch, 1, 1], seeds[2], -1, MAX_CUT + 1, tf.int32)  # -1: nothing cut
    rows = tf.range(IMAGE_SIZE)[None, :, None]
    columns = tf.range(IMAGE_SIZE)[None, None, :]
    inside = (tf.abs(rows - centre_y) <= half) & (tf.abs(columns - centre_x) <= half)
    return tf.where(inside, 0.0, x)


def view(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(B, 28, 28) uint8 -> a strongly distorted view, float32 in [0, 1]."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    return cut_out(augment_batch(images, seeds[0], VIEWS), seeds[1])


def contrastive_loss(a: tf.Tensor, b: tf.Tensor, temperature: float) -> tf.Tensor:
    """NT-Xent: each of 2B projections must find its other view among the 2B − 1 others (cosine similarity)."""
    z = tf.math.l2_normalize(tf.concat([a, b], axis=0), axis=1)
    count = tf.shape(a)[0]
    similarity = tf.matmul(z, z, transpose_b=True) / temperature
    similarity -= 1e9 * tf.eye(2 * count)  # a view is not its own pair
    partner = tf.concat([tf.range(count) + count, tf.range(count)], axis=0)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(partner, similarity))


def load_encoder(path: Path = ENCODER_PATH) -> keras.Model:
    return keras.saving.load_model(path, compile=False)


def load_encoder_card(path: Path = ENCODER_PATH) -> dict:
    """The encoder's card (scripts/pretrain.py writes it beside the encoder), or {} if there is none."""
    card = path.with_suffix(".json")
    return json.loads(card.read_text()) if card.exists() else {}


def features(encoder: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The encoder's features of (N, 28, 28) pictures in [0, 1]."""
    return np.asarray(encoder.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0))
