"""New symbols from a few drawings: a small head on a digit network's frozen features (transfer learning).

A trained network's last hidden layer describes a picture in a few hundred numbers that separate strokes, loops
and corners: features that serve any pen drawing, not only digits. New symbols need only a small head on those
frozen features (as Teachable Machine does with images), fitted in well under a second from a handful of drawings.
"""

from __future__ import annotations

import math
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.i18n import N_, Text
from core.models import graph, input_in, model_bytes, predict_proba
from core.pictures.augment import augment_batch
from core.pictures.data import IMAGE_SIZE

MIN_CLASSES, MAX_CLASSES = 2, 8  # symbols one classifier learns


MIN_EXAMPLES = 2  # drawings per symbol before it can be learnt
MAX_EXAMPLES = 30  # drawings per symbol a visitor may keep
MAX_NAME = 24  # characters of a symbol's name
INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # Unicode categories dropped from names: controls, format
MAX_KEPT = MAX_CLASSES * MAX_EXAMPLES  # drawings a visitor may keep in all, those of symbols renamed away included
COPIES = 16  # distorted copies of each drawing the head also learns from: size, slant, position, stroke
L2 = 1e-2  # the head's weight decay, on standardised features
HEAD_STEPS = 300  # full-batch gradient steps fitting the head (a convex problem: it converges)


def symbol_name(text: str) -> str:
    """A visitor's name for a symbol as Digit Lab keeps it: NFKC-normalised, without control, format (zero-width,
    bidi override) or other invisible characters, runs of spaces made one. Names that look alike become equal."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if char.isspace() else char for char in text if unicodedata.category(char) not in INVISIBLE)
    return " ".join(text.split())


def check_symbols(names: list[str]) -> list[str]:
    """The symbols' names, normalised; ValueError with a message a visitor can act on if they will not do."""
    names = [symbol_name(name) for name in names]
    names = [name for name in names if name]
    if len(names) < MIN_CLASSES:
        raise ValueError(
            Text(
                "Name at least {MIN_CLASSES} symbols: a classifier needs something to tell apart.",
                MIN_CLASSES=MIN_CLASSES,
            )
        )
    if len(names) > MAX_CLASSES:
        raise ValueError(Text("Name at most {MAX_CLASSES} symbols.", MAX_CLASSES=MAX_CLASSES))
    if len(set(names)) < len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(Text("Two symbols have the same name ({twice}): give each its own.", twice=", ".join(twice)))
    if any(len(name) > MAX_NAME for name in names):
        raise ValueError(Text("Keep each name to {MAX_NAME} characters.", MAX_NAME=MAX_NAME))
    return names


_feature_models: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one per live base model


def feature_model(base: keras.Model) -> keras.Model:
    """The base network up to its last hidden layer: (B, 28, 28) -> (B, d) features, read-only.

    It shares the base's layers, so it only ever reads: setting its `trainable` would set theirs, and change the
    base (a model every visitor may share) for everyone.
    """
    if base not in _feature_models:
        _feature_models[base] = keras.Model(graph(base).inputs, input_in(base, base.layers[-1]), name="features")
    return _feature_models[base]


def distorted(images: np.ndarray, copies: int, *, seed: int) -> np.ndarray:
    """`copies` randomly distorted versions of each image (as drawn: size, slant, shift, stroke), originals first."""
    pixels = np.round(np.repeat(images, copies, axis=0) * 255).astype(np.uint8)
    moved = augment_batch(tf.constant(pixels), tf.constant([seed, 0], tf.int64)).numpy()
    moved[::copies] = images  # keep each original as it was drawn
    return moved


@dataclass
class Examples:
    """A visitor's drawings of their symbols, in the order they drew them."""

    images: list[np.ndarray] = field(default_factory=list)  # (28, 28) each, what to_mnist gave
    labels: list[str] = field(default_factory=list)

    def add(self, label: str, image: np.ndarray | None) -> None:
        if image is None:
            raise ValueError(Text("Draw the symbol on the canvas first."))
        if self.labels.count(label) >= MAX_EXAMPLES:
            raise ValueError(
                Text(
                    "{MAX_EXAMPLES} drawings of {label} is plenty; remove one to add another.",
                    MAX_EXAMPLES=MAX_EXAMPLES,
                    label=label,
                )
            )
        if len(self.labels) >= MAX_KEPT:
            raise ValueError(
                Text(
                    "You keep {MAX_KEPT} drawings, the most Digit Lab holds (those of symbols you renamed count "
                    "too): remove some to add another.",
                    MAX_KEPT=MAX_KEPT,
                )
            )
        self.images.append(np.asarray(image, np.float32))
        self.labels.append(label)

    def remove(self, index: int) -> None:
        del self.images[index], self.labels[index]

    def undo(self) -> None:
        """Take back the last drawing added."""
        if self.labels:
            self.remove(len(self.labels) - 1)

    def of(self, label: str) -> list[int]:
        """Indices of the drawings of one symbol."""
        return [index for index, name in enumerate(self.labels) if name == label]

    def of_symbols(self, labels: list[str]) -> tuple[list[np.ndarray], list[str]]:
        """(images, labels) of the drawings of these symbols; the others are kept, should they be named again."""
        kept = [index for index, name in enumerate(self.labels) if name in labels]
        return [self.images[i] for i in kept], [self.labels[i] for i in kept]

    def missing(self, labels: list[str]) -> Text | None:
        """What to draw before the symbols can be learnt, or None when every one has enough drawings."""
        short = [
            f"{name} ({len(self.of(name))}/{MIN_EXAMPLES})" for name in labels if len(self.of(name)) < MIN_EXAMPLES
        ]
        if not short:
            return None
        return Text("Draw each symbol at least {count} times: {symbols}.", count=MIN_EXAMPLES, symbols=", ".join(short))


@dataclass
class _Head:
    """Softmax regression on standardised inputs: weights (d, k), bias (k,), the inputs' mean and scale."""

    weights: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        scores = ((inputs - self.mean) / self.scale) @ self.weights + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        odds = np.exp(scores)
        return (odds / odds.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_head(inputs: np.ndarray, labels: np.ndarray, classes: int, *, steps: int = HEAD_STEPS) -> _Head:
    """Softmax regression with weight decay L2, fitted by full-batch gradient descent with Nesterov momentum."""
    inputs = inputs.astype(np.float64)
    mean, scale = inputs.mean(axis=0), inputs.std(axis=0) + 1e-3
    x = (inputs - mean) / scale  # (n, d)
    targets = np.eye(classes)[labels]  # (n, k)
    weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
    velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(bias)
    rate = 1.0 / (0.25 * (x**2).sum(axis=1).mean() + L2)  # 1 / the loss's curvature bound: a safe step
    for _ in range(steps):
        look_w, look_b = weights + 0.9 * velocity_w, bias + 0.9 * velocity_b
        p = _Head(look_w, look_b, 0, 1).probabilities(x).astype(np.float64)
        gradient_w = x.T @ (p - targets) / len(x) + L2 * look_w
        gradient_b = (p - targets).mean(axis=0)
        velocity_w, velocity_b = 0.9 * velocity_w - rate * gradient_w, 0.9 * velocity_b - rate * gradient_b
        weights, bias = weights + velocity_w, bias + velocity_b
    return _Head(weights, bias, mean, scale)


class SymbolClassifier:
    """Reads a visitor's symbols: a frozen digit network's features and a small head fitted to their drawings."""

    def __init__(self, features: keras.Model, head: _Head, classes: list[str]) -> None:
        self.features, self.head, self.classes = features, head, list(classes)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) in [0, 1] -> (n, k) probabilities over `classes`."""
        return self.head.probabilities(predict_proba(self.features, images))

    def to_keras(self) -> keras.Model:
        """One Keras model taking (28, 28) pictures to the symbols' probabilities, standardisation folded in."""
        features = keras.models.clone_model(self.features)  # layers of its own: freezing them touches no one else's
        features.set_weights(self.features.get_weights())
        features.trainable = False
        inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")
        head = layers.Dense(len(self.classes), activation="softmax", name="symbols")
        outputs = head(features(inputs))
        weights = self.head.weights / self.head.scale[:, None]
        head.set_weights([weights.astype(np.float32), (self.head.bias - self.head.mean @ weights).astype(np.float32)])
        return keras.Model(inputs, outputs, name="symbols")

    def to_bytes(self) -> bytes:
        """The classifier as a .keras file (its classes, in order, are the outputs)."""
        return model_bytes(self.to_keras())


def _check_examples(images: np.ndarray, labels: list[str]) -> list[str]:
    classes = check_symbols(list(dict.fromkeys(labels)))
    if len(images) != len(labels):
        raise ValueError(Text("there must be one label per drawing"))
    for name in classes:
        count = labels.count(name)
        if count < MIN_EXAMPLES:
            raise ValueError(
                Text(
                    "Draw {name} at least {MIN_EXAMPLES} times ({count} so far).",
                    name=name,
                    MIN_EXAMPLES=MIN_EXAMPLES,
                    count=count,
                )
            )
    return classes


def learn_symbols(base_model: keras.Model, images: np.ndarray, labels: list[str], *, seed: int = 0) -> SymbolClassifier:
    """A classifier of the new symbols named in `labels`, from drawings (n, 28, 28) in [0, 1] (what to_mnist gives)."""
    images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    classes = _check_examples(images, list(labels))
    targets = np.array([classes.index(name) for name in labels])
    features = feature_model(base_model)
    inputs = predict_proba(features, distorted(images, COPIES, seed=seed))
    return SymbolClassifier(features, fit_head(inputs, np.repeat(targets, COPIES), len(classes)), classes)


@dataclass(frozen=True)
class Comparison:
    shots: tuple[int, ...]  # training drawings per symbol
    accuracy: dict[str, list[float]]  # method -> held-out accuracy at each number of shots (nan: too few drawings)


def _from_scratch(images: np.ndarray, targets: np.ndarray, classes: int, *, seed: int) -> Callable:
    """A small CNN trained from nothing on the same (distorted) drawings: the baseline transfer beats."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((IMAGE_SIZE, IMAGE_SIZE)),
            layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(classes, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(images, targets, epochs=15, batch_size=32, verbose=0)
    return lambda pictures: predict_proba(model, pictures)


def compare(
    base_model: keras.Model,
    images: np.ndarray,
    labels: list[str],
    *,
    shots: tuple[int, ...] = (1, 2, 5, 10),
    rounds: int = 3,
    on_progress: Callable[[float], None] | None = None,
) -> Comparison:
    """Why transfer works: held-out accuracy of three learners given 1, 2, 5, 10 drawings per symbol.

    (a) the head on the frozen features, (b) the same head on raw pixels, (c) a small CNN from scratch,
    each trained on `shot` drawings per symbol (and their distorted copies) and scored on the rest,
    averaged over `rounds` random splits. A number of shots needs one drawing per symbol left to score.
    """
    images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    classes = _check_examples(images, list(labels))
    targets = np.array([classes.index(name) for name in labels])
    features = feature_model(base_model)
    fewest = min(np.bincount(targets))
    methods = (N_("frozen features"), N_("raw pixels"), N_("from scratch"))
    accuracy = {method: [math.nan] * len(shots) for method in methods}
    usable = [index for index, shot in enumerate(shots) if shot < fewest]
    rng, done = np.random.default_rng(0), 0
    for index in usable:
        scores = {method: [] for method in methods}
        for round_ in range(rounds):
            train = np.concatenate(
                [rng.permutation(np.flatnonzero(targets == c))[: shots[index]] for c in range(len(classes))]
            )
            held_out = np.setdiff1d(np.arange(len(images)), train)
            pictures = distorted(images[train], COPIES, seed=round_)
            answers = np.repeat(targets[train], COPIES)
            frozen = fit_head(predict_proba(features, pictures), answers, len(classes))
            pixels = fit_head(pictures.reshape(len(pictures), -1), answers, len(classes))
            scratch = _from_scratch(pictures, answers, len(classes), seed=round_)
            truth = targets[held_out]
            scores["frozen features"].append(frozen.probabilities(predict_proba(features, images[held_out])))
            scores["raw pixels"].append(pixels.probabilities(images[held_out].reshape(len(held_out), -1)))
            scores["from scratch"].append(scratch(images[held_out]))
            for method in methods:
                scores[method][-1] = float((scores[method][-1].argmax(axis=1) == truth).mean())
            done += 1
            if on_progress is not None:
                on_progress(done / (len(usable) * rounds))
        for method in methods:
            accuracy[method][index] = float(np.mean(scores[method]))
    return Comparison(tuple(shots), accuracy)
