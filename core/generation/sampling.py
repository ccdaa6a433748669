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

from core.generation.flow import as_pixels, noised, run
from core.i18n import Text
from core.models import kept_for_server
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, NUM_CLASSES

STEPS = 16  # Euler steps of the page's samples
GUIDANCE = 1.25  # the page's w: 98.8% of 10,000 read as asked; at 1.5, 99.6%, a Fréchet distance 1.5× (bench)
NAMES = {"diffusion": "generator", "vae": "generator_vae", "map": "generator_map"}  # name -> assets/<stem>.keras


@dataclass
class Generator:
    """A shipped generator: its kind ("flow" or "vae"), its networks, its card."""

    kind: str
    networks: dict
    card: dict = field(default_factory=dict)


def _digits(digits) -> np.ndarray:
    labels = np.asarray(digits, np.int64).reshape(-1)
    if labels.size == 0:
        raise ValueError(Text("Ask for at least one digit."))
    if ((labels < -1) | (labels >= NUM_CLASSES)).any():
        raise ValueError(Text("A digit is 0 to 9, or −1 for any digit."))
    return labels


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def _decode(decoder: keras.Model, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    logits = np.asarray(decoder([z.astype(np.float32), _one_hot(labels)], training=False))
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).astype(np.float32)  # no overflow: 1 or 0 all the same


def _vae_labels(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A conditional VAE has no unconditional mode: "any digit" draws a class at random."""
    return np.where(labels >= 0, labels, rng.integers(0, NUM_CLASSES, len(labels)))


def _latent(generator: Generator) -> int:
    return int(generator.networks["decoder"].inputs[0].shape[-1])


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
    final, _frames = run(generator.networks["flow"], noise, labels, start=0.0, steps=steps, guidance=guidance)
    return as_pixels(final)


def trajectory(
    generator: Generator, digits, *, steps: int = STEPS, guidance: float = GUIDANCE, seed: int = 0, every: int = 2
) -> np.ndarray:
    """The denoising of `sample`'s pictures, every `every`-th step and the last: (frames, len(digits), 28, 28)."""
    if generator.kind != "flow":
        raise ValueError(Text("Only the flow model draws step by step."))
    labels = _digits(digits)
    noise = np.random.default_rng(seed).standard_normal((len(labels), IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    flow = generator.networks["flow"]
    _final, frames = run(flow, noise, labels, start=0.0, steps=steps, guidance=guidance, every=max(1, every))
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
        final, _frames = run(
            generator.networks["flow"],
            np.where(masks, noised(target, noise, np.zeros(len(labels))), noise),
            labels,
            start=0.0,
            steps=steps,
            guidance=guidance,
            known=(masks, target, noise),
        )
        chosen = as_pixels(final)
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
    final, _frames = run(
        generator.networks["flow"], x, labels, start=start, steps=max(1, round(steps * strength)), guidance=guidance
    )
    return as_pixels(final)[0]


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


def generator_paths(name: str) -> tuple[Path, Path]:
    if name not in NAMES:
        raise ValueError(Text("No generator called {name}.", name=repr(name)[:20]))
    stem = NAMES[name]
    return ASSETS_DIR / f"{stem}.keras", ASSETS_DIR / f"{stem}.json"


def load_generator(name: str = "diffusion") -> Generator:
    """A shipped generator: "diffusion" (the flow U-Net), "vae" (the baseline) or "map" (the 2-D VAE)."""
    path, card_path = generator_paths(name)
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    loaded = kept_for_server(keras.models.load_model(path, compile=False, safe_mode=True))
    if name == "diffusion":
        return Generator("flow", {"flow": loaded}, card)
    return Generator("vae", {"encoder": loaded.get_layer("encoder"), "decoder": loaded.get_layer("decoder")}, card)
