"""A network that draws digits: a class-conditional flow-matching U-Net with classifier-free guidance, and a
conditional VAE as its baseline.

Flow matching (Lipman et al. 2023, the straight "rectified" path of Liu et al. 2023) rather than DDPM/DDIM: the
network learns the velocity of a straight line from noise z (t = 0) to a digit x (t = 1), x_t = (1 − t)·z + t·x, so
a few Euler steps already follow it closely, and the loss is a plain regression. On 2 cores what matters is good
samples in few network evaluations, which is what straight paths buy. Classifier-free guidance (Ho & Salimans
2022): one network, the class dropped (replaced by NULL) on a share of the training steps; at sampling the
velocity is v_u + w·(v_c − v_u), so w = 0 is the unconditional model and w = 1 the conditional one.

Pictures are (N, 28, 28) float32 in [0, 1], white ink on black as in MNIST; the flow works in [−1, 1].
A digit is 0–9, or −1 for none (any digit). Everything is deterministic for a seed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from keras import layers

from core.i18n import Text
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, NUM_CLASSES

STEPS = 16  # Euler steps of the page's samples
GUIDANCE = 2.0  # the page's guidance weight w
NULL = NUM_CLASSES  # the class index meaning "no class"
TIME_FEATURES = 64  # sinusoidal features of t the network reads
NAMES = {"diffusion": "generator", "vae": "generator_vae", "map": "generator_map"}  # name -> assets/<stem>.keras


@dataclass
class Generator:
    """A shipped generator: its kind ("flow" or "vae"), its networks, its card."""

    kind: str
    networks: dict
    card: dict = field(default_factory=dict)


# ---- the flow's network


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


def noised(x: np.ndarray, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The flow's path: x_t = (1 − t)·z + t·x, from noise z at t = 0 to the picture x (in [−1, 1]) at t = 1."""
    t = np.asarray(t, np.float32).reshape(-1, *([1] * (np.ndim(x) - 1)))
    return (1.0 - t) * z + t * x


def velocity(network: keras.Model, x: np.ndarray, t: float, labels: np.ndarray, guidance: float) -> np.ndarray:
    """The guided velocity at x (N, 28, 28) and time t: v_u + w·(v_c − v_u); a row without a class is v_u."""
    count = len(x)
    conditional = labels >= 0
    both = np.concatenate([x, x])[..., None].astype(np.float32)
    classes = np.concatenate([np.where(conditional, labels, NULL), np.full(count, NULL)]).astype(np.int32)
    times = time_features(np.full(2 * count, t, np.float32))
    out = np.asarray(network([both, times, classes], training=False))[..., 0]
    with_class, without = out[:count], out[count:]
    return without + guidance * (with_class - without)


def _as_pixels(x: np.ndarray) -> np.ndarray:
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def _digits(digits) -> np.ndarray:
    labels = np.asarray(digits, np.int64).reshape(-1)
    if labels.size == 0:
        raise ValueError(Text("Ask for at least one digit."))
    if ((labels < -1) | (labels >= NUM_CLASSES)).any():
        raise ValueError(Text("A digit is 0 to 9, or −1 for any digit."))
    return labels


def _flow(network, x, labels, *, start: float, steps: int, guidance: float, every: int = 0, known=None):
    """Euler steps from time `start` to 1. With `known` = (mask, picture, noise), the known pixels are put back on
    their own path after every step (inpainting by replacement). Returns (final, frames every `every` steps)."""
    times = np.linspace(start, 1.0, steps + 1, dtype=np.float32)
    frames = []
    for index in range(steps):
        t, dt = times[index], times[index + 1] - times[index]
        if every and index % every == 0:
            frames.append(_as_pixels(x))
        x = x + dt * velocity(network, x, float(t), labels, guidance)
        if known is not None:
            mask, picture, noise = known
            x = np.where(mask, noised(picture, noise, np.full(len(x), times[index + 1])), x)
    if every:
        frames.append(_as_pixels(x))
    return x, frames


# ---- the VAE baseline


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


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def _decode(decoder: keras.Model, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    logits = np.asarray(decoder([z.astype(np.float32), _one_hot(labels)], training=False))
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def _vae_labels(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A conditional VAE has no unconditional mode: "any digit" draws a class at random."""
    return np.where(labels >= 0, labels, rng.integers(0, NUM_CLASSES, len(labels)))


def _latent(generator: Generator) -> int:
    return int(generator.networks["decoder"].inputs[0].shape[-1])


# ---- what the page asks for


def sample(
    generator: Generator, digits, *, steps: int = STEPS, guidance: float = GUIDANCE, seed: int = 0
) -> np.ndarray:
    """A picture of each of `digits` (0–9, or −1 for any): (len(digits), 28, 28) float32 in [0, 1]."""
    labels = _digits(digits)
    rng = np.random.default_rng(seed)
    if generator.kind == "vae":
        z = rng.standard_normal((len(labels), _latent(generator))).astype(np.float32)
        return _decode(generator.networks["decoder"], z, _vae_labels(labels, rng))
    noise = rng.standard_normal((len(labels), IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    final, _frames = _flow(generator.networks["flow"], noise, labels, start=0.0, steps=steps, guidance=guidance)
    return _as_pixels(final)


def trajectory(
    generator: Generator, digits, *, steps: int = STEPS, guidance: float = GUIDANCE, seed: int = 0, every: int = 2
) -> np.ndarray:
    """The denoising of `sample`'s pictures, every `every`-th step and the last: (frames, len(digits), 28, 28)."""
    if generator.kind != "flow":
        raise ValueError(Text("Only the flow model draws step by step."))
    labels = _digits(digits)
    noise = np.random.default_rng(seed).standard_normal((len(labels), IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    flow = generator.networks["flow"]
    _final, frames = _flow(flow, noise, labels, start=0.0, steps=steps, guidance=guidance, every=max(1, every))
    return np.stack(frames)


def _checked_picture(image: np.ndarray) -> np.ndarray:
    picture = np.asarray(image, np.float32)
    if picture.shape != (IMAGE_SIZE, IMAGE_SIZE) or not np.isfinite(picture).all():
        raise ValueError(Text("A picture here is 28×28 numbers in [0, 1]."))
    return np.clip(picture, 0.0, 1.0)


def complete(
    generator: Generator,
    image: np.ndarray,
    known: np.ndarray,
    *,
    digit: int = -1,
    count: int = 1,
    steps: int = STEPS,
    guidance: float = GUIDANCE,
    seed: int = 0,
) -> np.ndarray:
    """`count` completions of `image` (28, 28) where `known` (28, 28 bool) is true: the known pixels exactly the
    image's, the rest drawn (for `digit`, or any). The flow keeps the known pixels on their own path at every step
    (inpainting by replacement, as RePaint's inner step, Lugmayr et al. 2022); the VAE keeps the decodes of random
    latents that best match the known pixels."""
    picture, mask = _checked_picture(image), np.asarray(known, bool)
    if mask.shape != picture.shape:
        raise ValueError(Text("The mask must be 28×28, like the picture."))
    if not mask.any():
        raise ValueError(Text("Keep some of the drawing: with nothing known, use Draw me a digit."))
    if mask.all():
        raise ValueError(Text("Erase part of the drawing first: there is nothing left to finish."))
    labels = _digits(np.full(int(count), digit))
    rng = np.random.default_rng(seed)
    if generator.kind == "vae":
        candidates = 16 * len(labels)
        tried = _decode(
            generator.networks["decoder"],
            rng.standard_normal((candidates, _latent(generator))).astype(np.float32),
            _vae_labels(np.repeat(labels, 16), rng),
        )
        misfit = np.abs(tried - picture)[:, mask].mean(axis=1)
        chosen = tried[np.argsort(misfit, kind="stable")[: len(labels)]]
    else:
        target = np.repeat((picture * 2.0 - 1.0)[None], len(labels), axis=0)
        noise = rng.standard_normal(target.shape).astype(np.float32)
        masks = np.repeat(mask[None], len(labels), axis=0)
        final, _frames = _flow(
            generator.networks["flow"],
            np.where(masks, noised(target, noise, np.zeros(len(labels))), noise),
            labels,
            start=0.0,
            steps=steps,
            guidance=guidance,
            known=(masks, target, noise),
        )
        chosen = _as_pixels(final)
    return np.where(mask[None], picture[None], chosen).astype(np.float32)


def transform(
    generator: Generator,
    image: np.ndarray,
    digit: int,
    *,
    strength: float = 0.6,
    steps: int = STEPS,
    guidance: float = GUIDANCE,
    seed: int = 0,
) -> np.ndarray:
    """`image` turned toward `digit` (SDEdit, Meng et al. 2022): noised back to time 1 − strength on the flow's
    path, then carried forward to a picture of `digit`. strength 0 keeps the picture, 1 draws a new one. (28, 28)."""
    picture = _checked_picture(image)
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(Text("The strength is from 0 to 1."))
    labels = _digits([digit])
    if labels[0] < 0:
        raise ValueError(Text("Choose the digit to turn it into."))
    rng = np.random.default_rng(seed)
    if generator.kind == "vae":
        mean, _log_variance = generator.networks["encoder"]([picture[None], _one_hot(labels)], training=False)
        z = math.sqrt(1.0 - strength) * np.asarray(mean) + math.sqrt(strength) * rng.standard_normal(
            (1, _latent(generator))
        )
        return _decode(generator.networks["decoder"], z, labels)[0]
    if strength == 0.0:
        return picture
    start = 1.0 - float(strength)
    noise = rng.standard_normal((1, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    x = noised((picture * 2.0 - 1.0)[None], noise, np.full(1, start))
    final, _frames = _flow(
        generator.networks["flow"], x, labels, start=start, steps=max(1, round(steps * strength)), guidance=guidance
    )
    return _as_pixels(final)[0]


def place_on_map(generator: Generator, image: np.ndarray) -> np.ndarray:
    """Where the map's VAE puts a picture on its plane: the mean of its 2-D latent."""
    mean, _log_variance = generator.networks["encoder"](
        [_checked_picture(image)[None], np.zeros((1, NUM_CLASSES), np.float32)], training=False
    )
    return np.asarray(mean)[0]


def map_grid(generator: Generator, size: int = 15, reach: float = 2.0) -> np.ndarray:
    """The map's plane decoded on a size×size grid over [−reach, reach]²: (size, size, 28, 28), rows top to bottom."""
    values = np.linspace(-reach, reach, size, dtype=np.float32)
    z = np.array([[x, y] for y in values[::-1] for x in values], np.float32)
    pictures = _decode(generator.networks["decoder"], z, np.zeros(len(z), np.int64))
    return pictures.reshape(size, size, IMAGE_SIZE, IMAGE_SIZE)


# ---- the shipped generators


def generator_paths(name: str) -> tuple[Path, Path]:
    if name not in NAMES:
        raise ValueError(Text("No generator called {name}.", name=repr(name)[:20]))
    stem = NAMES[name]
    return ASSETS_DIR / f"{stem}.keras", ASSETS_DIR / f"{stem}.json"


def load_generator(name: str = "diffusion") -> Generator:
    """A shipped generator: "diffusion" (the flow U-Net), "vae" (the baseline) or "map" (the 2-D VAE)."""
    path, card_path = generator_paths(name)
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    loaded = keras.models.load_model(path, compile=False, safe_mode=True)
    if name == "diffusion":
        return Generator("flow", {"flow": loaded}, card)
    return Generator("vae", {"encoder": loaded.get_layer("encoder"), "decoder": loaded.get_layer("decoder")}, card)


def vae_file_model(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """The VAE as one Keras file: a model whose two layers are the encoder and the decoder (loaded by name)."""
    picture = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="picture")
    one_hot = keras.Input((NUM_CLASSES,), name="class")
    mean, _log_variance = encoder([picture, one_hot])
    return keras.Model([picture, one_hot], decoder([mean, one_hot]), name="vae")
