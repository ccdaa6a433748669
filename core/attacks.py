"""Adversarial examples: pictures changed by at most ε per pixel so that the network misreads them.

L∞ attacks in pixel units of [0, 1]: FGSM (one signed-gradient step, Goodfellow et al. 2015) and PGD (many small
steps projected back into the ε-box, Madry et al. 2018), untargeted (any wrong reading) or targeted (a chosen
reading); the smallest ε that changes a reading; accuracy against ε.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.i18n import N_, Text
from core.models import gradient_batch, graphs_kept, logits, predict_proba
from core.pictures.data import IMAGE_SIZE

CEILING = 0.5  # smallest_flip gives up above this ε: half the pixel range can turn any picture into another
RESOLUTION = 0.01  # smallest_flip's step in ε: 2.5 grey levels of 255, and the Attack page's slider step
_gradients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one traced graph per live model


def _input_gradient(model: keras.Model):
    """g(images, classes, direction): the direction of d (direction · cross-entropy(classes)) / d images.

    Each picture's gradient comes scaled by a positive number of its own, which changes no sign. The
    loss is taken on the scores in float64 and scaled before it flows back: a float32 softmax is
    exactly one-hot once the scores differ by ~100, and its gradient then exactly zero, which would
    hide a very sure network from the attacks ("gradient masking").
    """
    if model in _gradients:
        return _gradients[model]
    scores = logits(model)

    def gradient(images, classes, direction):
        with tf.GradientTape() as tape:
            tape.watch(images)
            values = scores(images, training=False)  # (B, 10)
        wide = tf.cast(values, tf.float64)
        upstream = tf.nn.softmax(wide) - tf.one_hot(classes, tf.shape(wide)[1], dtype=tf.float64)  # dCE/dscores
        upstream *= tf.cast(direction, tf.float64)[:, None]
        upstream = tf.math.divide_no_nan(upstream, tf.reduce_max(tf.abs(upstream), axis=1, keepdims=True))
        return tape.gradient(values, images, output_gradients=tf.cast(upstream, values.dtype))

    signature = [
        tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.float32),
    ]
    if not graphs_kept(model):  # eager: a graph traced for a passing model would stay in memory after it
        return lambda *values: gradient(
            *(tf.convert_to_tensor(value, spec.dtype) for value, spec in zip(values, signature, strict=True))
        )
    _gradients[model] = tf.function(gradient, input_signature=signature)
    return _gradients[model]


def _goal(labels: np.ndarray, target) -> tuple[np.ndarray, np.ndarray]:
    """(classes, direction): climb the true class's loss, or descend the target's."""
    if target is None:
        return np.asarray(labels, np.int32), np.ones(len(labels), np.float32)
    classes = np.broadcast_to(np.asarray(target, np.int32), (len(labels),))
    return np.ascontiguousarray(classes), -np.ones(len(labels), np.float32)


def _per_picture(eps, count: int) -> np.ndarray:
    """ε as a (count, 1, 1) array: one value for all pictures, or one each."""
    values = np.broadcast_to(np.asarray(eps, np.float32), (count,))
    if (values < 0).any() or (values > 1).any():
        raise ValueError(Text("ε must be between 0 and 1 (pixel values run from 0 to 1)"))
    return values.reshape(count, 1, 1).copy()


def _start_noise(count: int, *, seed: int) -> np.ndarray:
    """(count, 28, 28) uniform in [-1, 1]: PGD's random start, in units of ε."""
    return np.random.default_rng(seed).uniform(-1, 1, (count, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)


def pgd(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    eps,
    *,
    steps: int = 20,
    step_size=None,
    random_start: bool = True,
    target=None,
    seed: int = 0,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Projected gradient descent within the L∞ ball of radius `eps` (scalar or one per picture).

    images (B, 28, 28) float32 in [0, 1]; labels (B,) the true digits; target None (any wrong
    reading) or a digit (scalar or per picture) to make the network read. `step_size` defaults to
    2.5 ε / steps (Madry et al. 2018). The random start is ε · `noise` ((B, 28, 28) in [-1, 1];
    drawn from `seed` if None). Returns the adversarial images, within ε of the originals and within [0, 1].
    """
    images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if steps < 1:
        raise ValueError(Text("PGD needs at least one step"))
    classes, direction = _goal(labels, target)
    radius = _per_picture(eps, len(images))
    size = 2.5 * radius / steps if step_size is None else _per_picture(step_size, len(images))
    gradient = _input_gradient(model)
    noise = _start_noise(len(images), seed=seed) if noise is None else np.asarray(noise, np.float32)
    adversarial = np.empty_like(images)
    batch = gradient_batch(model)
    for start in range(0, len(images), batch):
        part = slice(start, start + batch)
        original, box = images[part], radius[part]
        x = np.clip(original + noise[part] * box, 0, 1) if random_start else original
        for _ in range(steps):
            grad = gradient(x, classes[part], direction[part])
            x = np.clip(x + size[part] * np.sign(grad.numpy()), original - box, original + box)
            x = np.clip(x, 0, 1)
        adversarial[part] = x
    return adversarial


def fgsm(model: keras.Model, images: np.ndarray, labels: np.ndarray, eps, *, target=None) -> np.ndarray:
    """Fast gradient sign method: one step of size ε along the sign of the loss gradient."""
    return pgd(model, images, labels, eps, steps=1, step_size=eps, random_start=False, target=target)


ATTACKS: dict[str, Callable] = {  # name shown to visitors -> attack(model, images, labels, eps, *, target)
    "FGSM": fgsm,
    "PGD-10": lambda model, images, labels, eps, *, target=None: pgd(
        model, images, labels, eps, steps=10, target=target
    ),
    "PGD-20": lambda model, images, labels, eps, *, target=None: pgd(
        model, images, labels, eps, steps=20, target=target
    ),
}
EXPLAINED = {  # the attacks a visitor picks on the Attack page -> what each does, in a sentence
    "FGSM": N_("FGSM: one step along the gradient's sign."),
    "PGD-20": N_("PGD-20: twenty smaller steps, each kept within ε: slower, and much stronger."),
}
STRONGEST = "PGD-20"  # what the smallest change is searched with, and the page's default


@dataclass(frozen=True)
class Flip:
    eps: float  # the smallest ε found that changes the reading
    image: np.ndarray  # (28, 28) the picture that fools the network at that ε
    probabilities: np.ndarray  # (10,) the network's reading of it


def _fooled(probabilities: np.ndarray, reading: int, target) -> np.ndarray:
    predicted = probabilities.argmax(axis=1)
    return predicted == target if target is not None else predicted != reading


def smallest_flip(
    model: keras.Model,
    image: np.ndarray,
    *,
    target: int | None = None,
    ceiling: float = CEILING,
    resolution: float = RESOLUTION,
    steps: int = 20,
) -> Flip | None:
    """The smallest ε, in steps of `resolution`, at which PGD changes the reading of `image` (to `target`).

    Every ε up to `ceiling` is tried at once, as one batch of copies that share the random start
    `pgd(model, image[None], ..., eps)` would take: attacking the picture again at the ε found gives
    the same picture. None if even `ceiling` does not fool the network.
    """
    image = np.asarray(image, np.float32).reshape(1, IMAGE_SIZE, IMAGE_SIZE)
    reading = int(predict_proba(model, image)[0].argmax())
    if target is not None and target == reading:
        raise ValueError(Text("the network already reads this as {target}: pick another target", target=target))
    grid = np.arange(1, round(ceiling / resolution) + 1) * np.float32(resolution)  # (K,)
    copies = np.repeat(image, len(grid), axis=0)
    noise = np.repeat(_start_noise(1, seed=0), len(grid), axis=0)
    attacked = pgd(model, copies, np.full(len(grid), reading), grid, steps=steps, target=target, noise=noise)
    probabilities = predict_proba(model, attacked)
    fooled = np.flatnonzero(_fooled(probabilities, reading, target))
    if len(fooled) == 0:
        return None
    first = fooled[0]
    return Flip(round(float(grid[first]), 6), attacked[first], probabilities[first])


def robustness_curve(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    eps_values,
    attack: Callable,
    *,
    on_progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Accuracy on `images` attacked at each ε of `eps_values`, in increasing order (ε = 0: the clean accuracy).

    A digit fooled at one ε counts as fooled at every larger ε, since its adversarial picture lies
    within those too; so each ε attacks only the digits still read right, which makes the curve of an
    undefended network several times faster than attacking every digit at every ε.
    """
    if list(eps_values) != sorted(eps_values):
        raise ValueError(Text("list the ε values in increasing order"))
    right = predict_proba(model, images).argmax(axis=1) == labels  # (N,) still read right
    accuracies = []
    for done, eps in enumerate(eps_values):
        if eps > 0 and right.any():
            survivors = np.flatnonzero(right)
            attacked = attack(model, images[survivors], labels[survivors], eps)
            right[survivors] = predict_proba(model, attacked).argmax(axis=1) == labels[survivors]
        accuracies.append(float(right.mean()))
        if on_progress is not None:
            on_progress((done + 1) / len(eps_values))
    return np.array(accuracies)


@dataclass(frozen=True)
class Attacked:
    """One picture before and after an attack, with the network's readings of both."""

    original: np.ndarray  # (28, 28) in [0, 1]
    adversarial: np.ndarray  # (28, 28) in [0, 1], within ε of the original
    before: np.ndarray  # (10,) probabilities of the original
    after: np.ndarray  # (10,) probabilities of the adversarial picture

    @property
    def change(self) -> np.ndarray:
        return self.adversarial - self.original

    @property
    def fooled(self) -> bool:
        return self.before.argmax() != self.after.argmax()


def attack_picture(model: keras.Model, image: np.ndarray, *, attack: str, eps: float, target=None) -> Attacked:
    """Attack one picture with ATTACKS[attack]: away from what the network reads now, or towards `target`."""
    image = np.asarray(image, np.float32).reshape(1, IMAGE_SIZE, IMAGE_SIZE)
    before = predict_proba(model, image)[0]
    adversarial = ATTACKS[attack](model, image, before.argmax()[None], eps, target=target)
    return Attacked(image[0], adversarial[0], before, predict_proba(model, adversarial)[0])


CURVE_EPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)  # the ε values of the Attack page's robustness curves
CURVE_DIGITS = 1_000  # test digits behind them
CURVE_ATTACKS = ("FGSM", "PGD-10")


def robustness_curves(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, *, on_progress: Callable[[float], None] | None = None
) -> dict[str, np.ndarray]:
    """Accuracy at each of CURVE_EPS under each of CURVE_ATTACKS: {attack: (len(CURVE_EPS),)}, with progress."""
    costs = {"FGSM": 1, "PGD-10": 10}  # gradient steps: how the progress bar shares out
    total, done, curves = sum(costs.values()), 0, {}
    for name in CURVE_ATTACKS:

        def report(fraction: float, done=done, name=name) -> None:
            if on_progress is not None:
                on_progress((done + fraction * costs[name]) / total)

        curves[name] = robustness_curve(model, images, labels, CURVE_EPS, ATTACKS[name], on_progress=report)
        done += costs[name]
    return curves
