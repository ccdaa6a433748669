"""Learning from a few labels: `fit_few` trains on the training digits a caller labelled, and no other label.

Four methods, each against the others on the Labels page:
- "scratch": the default CNN's shape trained on the labelled digits alone (with canvas-like distortions);
- "linear": the encoder learnt without labels (core.labels.encoder), frozen, with a softmax read-out;
- "fixmatch": FixMatch (Sohn et al. 2020) from the encoder and its read-out: the unlabelled digits teach too, each
  through the label the network gives a mild distortion of it when it is sure (≥ THRESHOLD), demanded of a
  strong distortion;
- "propagate": label propagation (core.labels.propagate) over the encoder's features of every training picture,
  then the encoder and its read-out tuned on the labels spread, each digit weighted by its certainty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.i18n import N_, Text
from core.labels.encoder import features, load_encoder, view
from core.labels.propagate import propagate
from core.models import build_cnn, model_bytes, predict_proba
from core.pictures.augment import augment_batch
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES, Mnist, load_mnist

METHODS = {
    "scratch": N_("From scratch, labelled digits only"),
    "linear": N_("Encoder, linear read-out"),
    "fixmatch": N_("Encoder, then FixMatch on the unlabelled digits"),
    "propagate": N_("Encoder, labels spread to the unlabelled digits"),
}
BEST = "propagate"
MAX_LABELS = 1_000  # labelled digits one fit takes
STEPS = {"scratch": 1000, "linear": 300, "fixmatch": 600, "propagate": 400}  # each within about 3 min on 2 cores
LEARNING_RATES = {"scratch": 1e-3, "fixmatch": 3e-4, "propagate": 3e-4}  # Adam; the encoder's features are learnt
LABELLED_BATCH = 32
SPREAD_BATCH = 128  # digits a step of "propagate" learns from, each with its spread label, weighted by certainty
UNLABELLED_SHARE = 4  # unlabelled digits per labelled one in a FixMatch batch (μ)
THRESHOLD = 0.95  # how sure the network must be of a mild view for its label to teach the strong one
LINEAR_VIEWS = 8  # distorted copies of each labelled digit the read-out learns from


@dataclass(frozen=True)
class FewProgress:
    step: int
    steps: int
    loss: float
    confident: float  # share of the unlabelled batch sure enough to teach (FixMatch)
    seconds: float

    def text(self) -> Text:
        return Text("Step {step}/{steps} · loss {loss:.3f}", step=self.step, steps=self.steps, loss=self.loss)


def check(indices, labels) -> tuple[np.ndarray, np.ndarray]:
    """The labelled digits as arrays, or a ValueError in a visitor's words."""
    indices, labels = np.asarray(indices).reshape(-1), np.asarray(labels).reshape(-1)
    if not len(indices):
        raise ValueError(Text("Label at least one digit first."))
    if len(indices) != len(labels):
        raise ValueError(Text("Each labelled digit needs one label."))
    if len(indices) > MAX_LABELS:
        raise ValueError(Text("At most {count:,} labels at once.", count=MAX_LABELS))
    if not (np.issubdtype(indices.dtype, np.integer) and np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(Text("Digits and labels are whole numbers."))
    if indices.min() < 0 or indices.max() >= 60_000 or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(Text("A digit or a label is out of range."))
    return indices.astype(np.int64), labels.astype(np.int32)


def _read_out(encoder: keras.Model) -> keras.Model:
    """The encoder's graph with a softmax on its features: a plain (None, 28, 28) -> (None, 10) model."""
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(encoder.output)
    return keras.Model(encoder.input, probabilities, name="few_labels")


def _steps(model, optimizer, *, unlabelled_weight: float):
    """One step: cross-entropy on mildly distorted labelled digits (each weighted), plus FixMatch's on the
    unlabelled ones."""
    shape = tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.uint8)
    variables = model.trainable_variables
    signature = [shape, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None,), tf.float32), shape]

    @tf.function(input_signature=[*signature, tf.TensorSpec((2,), tf.int32)])
    def step(images, labels, weights, unlabelled, seed):
        seeds = tf.random.experimental.stateless_split(seed, 3)
        with tf.GradientTape() as tape:
            predicted = model(augment_batch(images, seeds[0]), training=True)
            loss = tf.reduce_mean(weights * keras.losses.sparse_categorical_crossentropy(labels, predicted))
            confident = tf.constant(0.0)
            if unlabelled_weight:
                guess = tf.stop_gradient(model(augment_batch(unlabelled, seeds[1]), training=False))
                sure = tf.cast(tf.reduce_max(guess, axis=1) >= THRESHOLD, tf.float32)
                strong = model(view(unlabelled, seeds[2]), training=True)
                taught = keras.losses.sparse_categorical_crossentropy(tf.argmax(guess, axis=1), strong)
                loss += unlabelled_weight * tf.reduce_mean(sure * taught)
                confident = tf.reduce_mean(sure)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss, confident

    return step


def _fit_linear(encoder: keras.Model, images: np.ndarray, labels: np.ndarray, seed: int) -> keras.Model:
    """The read-out alone on the frozen encoder's features of LINEAR_VIEWS distortions of each labelled digit."""
    model = _read_out(encoder)
    copies = np.concatenate([images] * LINEAR_VIEWS)
    views = augment_batch(tf.constant(copies), tf.constant([seed, 1], tf.int32)).numpy()
    views[: len(images)] = images / np.float32(255)  # the digits themselves among their views
    features = tf.constant(encoder.predict(views, batch_size=500, verbose=0))
    targets = tf.constant(np.tile(labels, LINEAR_VIEWS))
    head = model.get_layer("probabilities")
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(targets, head(features)))
            loss += 1e-4 * tf.reduce_sum(tf.square(head.kernel))
        optimizer.apply(tape.gradient(loss, head.trainable_variables), head.trainable_variables)
        return loss

    for _step in range(STEPS["linear"]):
        step()
    return model


def fit_few(
    indices,
    labels,
    *,
    method: str = BEST,
    seed: int = 0,
    data: Mnist | None = None,
    on_progress=None,
    should_stop=None,
) -> keras.Model:
    """A softmax model learnt from the training digits at `indices` (into load_mnist().x_train) labelled `labels`,
    the only labels it reads (FixMatch and propagation also learn from every training picture, unlabelled). A Job
    task: reports FewProgress, stops at the next step when asked and returns the model so far."""
    if method not in METHODS:
        raise ValueError(Text("Unknown method {method}.", method=method))
    indices, labels = check(indices, labels)
    pictures = (data or load_mnist()).x_train  # the pictures only: its labels are never read
    keras.utils.set_random_seed(seed)
    images = pictures[indices]
    if method == "scratch":
        model = build_cnn(name="few_labels")
    else:
        encoder = load_encoder()
        model = _fit_linear(encoder, images, labels, seed)
        if method == "linear":
            return model
    weights, batch = np.ones(len(images), np.float32), LABELLED_BATCH
    if method == "propagate":  # every training picture, with the label spread to it and how certain that is
        labels, weights = propagate(features(encoder, pictures / np.float32(255)), indices, labels)
        images, labels, batch = pictures, labels.astype(np.int32), SPREAD_BATCH
    weight = 1.0 if method == "fixmatch" else 0.0
    step = _steps(model, keras.optimizers.Adam(LEARNING_RATES[method]), unlabelled_weight=weight)
    rng, started, steps = np.random.default_rng(seed), time.perf_counter(), STEPS[method]
    for number in range(1, steps + 1):
        chosen = rng.integers(len(images), size=batch)
        others = rng.integers(len(pictures), size=batch * UNLABELLED_SHARE if weight else 1)
        loss, confident = step(
            tf.constant(images[chosen]),
            tf.constant(labels[chosen]),
            tf.constant(weights[chosen]),
            tf.constant(pictures[others]),
            tf.constant([seed, number], tf.int32),
        )
        if on_progress is not None and (number % 10 == 0 or number == steps):
            on_progress(FewProgress(number, steps, float(loss), float(confident), time.perf_counter() - started))
        if should_stop is not None and should_stop():
            break
    return model


MEMORY_MB = 900.0  # a fit in its own process: TensorFlow, the data set, a small network and its batches
EXPECTED_SECONDS = {"scratch": 40.0, "linear": 20.0, "fixmatch": 150.0, "propagate": 150.0}


@dataclass(frozen=True)
class Learnt:
    """What a fit sends back from its process: the model as a .keras file's bytes, and how it reads the test set."""

    model: bytes
    test_probabilities: np.ndarray
    test_accuracy: float


def learn(indices, labels, method: str, seed: int, data: Mnist, *, on_progress, should_stop, keep) -> Learnt:
    """fit_few as a Job task, scored on the test digits."""
    model = fit_few(
        indices, labels, method=method, seed=seed, data=data, on_progress=on_progress, should_stop=should_stop
    )
    probabilities = predict_proba(model, data.x_test / np.float32(255))
    accuracy = float((probabilities.argmax(axis=1) == data.y_test).mean())
    return Learnt(model_bytes(model), probabilities, accuracy)
