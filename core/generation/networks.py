"""The generators' networks: the flow's velocity U-Net and the VAEs' encoder and decoder. Standard Keras layers only,
so their files load in Keras' safe mode."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

from core.pictures.data import IMAGE_SIZE, NUM_CLASSES

NULL = NUM_CLASSES  # the class index meaning "no class"
TIME_FEATURES = 64  # sinusoidal features of t the network reads


def time_features(t: np.ndarray) -> np.ndarray:
    """(N,) times in [0, 1] -> (N, TIME_FEATURES) sinusoids at geometric frequencies, as transformers encode places."""
    half = TIME_FEATURES // 2
    frequencies = np.exp(-math.log(1000.0) * np.arange(half, dtype=np.float32) / half)
    angles = 1000.0 * np.asarray(t, np.float32)[:, None] * frequencies[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


def _block(x, embedding, channels: int, size: int, name: str):
    """A residual block: norm, swish, conv; the time-and-class embedding added per channel; norm, swish, conv."""
    skip = x if x.shape[-1] == channels else layers.Conv2D(channels, 1, name=f"{name}_skip")(x)
    h = layers.GroupNormalization(min(8, x.shape[-1]), name=f"{name}_norm1")(x)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(h)
    e = layers.Dense(channels, name=f"{name}_embedding")(embedding)
    e = layers.UpSampling2D(size, name=f"{name}_tile")(layers.Reshape((1, 1, channels))(e))  # to every pixel
    h = layers.Add()([h, e])
    h = layers.GroupNormalization(8, name=f"{name}_norm2")(h)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(h)
    return layers.Add(name=f"{name}_out")([skip, h])


def build_unet(widths: tuple[int, int, int] = (32, 64, 96), embedding: int = 128) -> keras.Model:
    """The velocity network: (x_t (N, 28, 28, 1), time features (N, 64), class (N,) with NULL) -> (N, 28, 28, 1).

    A small U-Net (Ronneberger et al. 2015) at 28, 14 and 7 pixels, a residual block at each on the way down and up,
    the skips concatenated. Standard layers only, so the file loads in Keras' safe mode."""
    image = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="x_t")
    times = keras.Input((TIME_FEATURES,), name="time")
    label = keras.Input((), dtype="int32", name="label")
    e = layers.Dense(embedding, activation="swish", name="time_dense1")(times)
    e = layers.Dense(embedding, name="time_dense2")(e)
    c = layers.Flatten()(layers.Embedding(NUM_CLASSES + 1, embedding, name="class_embedding")(label))
    e = layers.Activation("swish")(layers.Add()([e, c]))
    a, b, c3 = widths
    x = layers.Conv2D(a, 3, padding="same", name="stem")(image)
    down28 = _block(x, e, a, 28, "down28")
    x = layers.Conv2D(b, 3, strides=2, padding="same", name="to14")(down28)
    down14 = _block(x, e, b, 14, "down14")
    x = layers.Conv2D(c3, 3, strides=2, padding="same", name="to7")(down14)
    x = _block(x, e, c3, 7, "middle7")
    x = layers.Concatenate()([layers.UpSampling2D(2)(x), down14])
    x = _block(x, e, b, 14, "up14")
    x = layers.Concatenate()([layers.UpSampling2D(2)(x), down28])
    x = _block(x, e, a, 28, "up28")
    x = layers.Activation("swish")(layers.GroupNormalization(8, name="out_norm")(x))
    velocity = layers.Conv2D(1, 3, padding="same", name="velocity", kernel_initializer="zeros")(x)
    return keras.Model([image, times, label], velocity, name="flow_unet")


def build_vae(latent: int = 16, conditional: bool = True, hidden: int = 512) -> tuple[keras.Model, keras.Model]:
    """(encoder, decoder) of a (conditional) VAE with MLPs (Kingma & Welling 2014; Sohn et al. 2015).

    encoder: (picture (N, 28, 28), class one-hot (N, 10)) -> (mean, log variance), each (N, latent);
    decoder: (z (N, latent), class one-hot) -> pixel logits (N, 28, 28). Without `conditional` the class input is
    ignored (zeros): the map's VAE, whose plane holds every digit."""
    picture = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="picture")
    one_hot = keras.Input((NUM_CLASSES,), name="class")
    x = layers.Flatten()(picture)
    if conditional:
        x = layers.Concatenate()([x, one_hot])
    x = layers.Dense(hidden, activation="relu", name="enc1")(x)
    x = layers.Dense(hidden // 2, activation="relu", name="enc2")(x)
    mean = layers.Dense(latent, name="mean")(x)
    log_variance = layers.Dense(latent, name="log_variance")(x)
    encoder = keras.Model([picture, one_hot], [mean, log_variance], name="encoder")
    z = keras.Input((latent,), name="z")
    one_hot2 = keras.Input((NUM_CLASSES,), name="class")
    y = layers.Concatenate()([z, one_hot2]) if conditional else z
    y = layers.Dense(hidden // 2, activation="relu", name="dec1")(y)
    y = layers.Dense(hidden, activation="relu", name="dec2")(y)
    y = layers.Dense(IMAGE_SIZE * IMAGE_SIZE, name="logits")(y)
    decoder = keras.Model([z, one_hot2], layers.Reshape((IMAGE_SIZE, IMAGE_SIZE))(y), name="decoder")
    return encoder, decoder


def vae_file_model(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """The VAE as one Keras file: a model whose two layers are the encoder and the decoder (loaded by name)."""
    picture = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="picture")
    one_hot = keras.Input((NUM_CLASSES,), name="class")
    mean, _log_variance = encoder([picture, one_hot])
    return keras.Model([picture, one_hot], decoder([mean, one_hot]), name="vae")
