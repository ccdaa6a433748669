"""What a network gives away about its training digits: the loss-threshold membership attack (Yeom et al. 2018) on a
network that overfits a small training set and on its private twin, and a visitor's drawing planted as a canary.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.i18n import Text
from core.models import logits, predict_proba
from core.pictures.data import NUM_CLASSES, Mnist
from core.privacy import Spend
from core.runs.child import preload
from core.symbols import distorted
from core.training.config import TrainConfig, stratified_subset
from core.training.loop import compiled_model, private_spend, training_dataset

MEMBERS = 1_000  # training digits of the small training set; as many other training digits are its non-members
# Epochs over them: more than the Train page offers, as 1,000 digits pass in a moment (fewer for a quick test server)
PASSES = int(os.environ.get("DIGITLAB_MEMBERSHIP_PASSES", "150"))
# A network that overfits them: a wide MLP without dropout learns each digit by heart (a CNN generalises too well
# for the attack: after 60 epochs its members' losses were those of digits it never saw, AUC 0.52; this one 0.6)
OVERFIT = TrainConfig(
    architecture="mlp",
    dense_units=512,
    batch_norm=False,
    dropout=0.0,
    optimizer="adam",
    learning_rate=1e-3,
    schedule="constant",
    batch_size=32,
    train_size=MEMBERS,
)
# Its private twin: the same network and steps by DP-SGD; a small set spends ε fast, so this one is large.
PRIVATE_TWIN = dataclasses.replace(OVERFIT, dp_epsilon=8.0, dp_clip=1.0)
CANARY_COPIES = 99  # distorted copies of a canary, never planted, that it is ranked among


@dataclass(frozen=True)
class Membership:
    """The loss-threshold attack's result: a digit is called a member when the network's loss on it is low."""

    false_positive: np.ndarray  # (k,) share of non-members called members, at each threshold
    true_positive: np.ndarray  # (k,) share of members called members
    auc: float  # area under that curve: 0.5 is a guess, 1 reads membership perfectly
    advantage: float  # max(true - false positive): the attack's best edge over a guess


def losses(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n,) the network's cross-entropy on each digit (images (n, 28, 28) in [0, 1]), from its logits in float64: a
    saturated float32 softmax says p = 1 and loss 0 for every digit it is sure of, member or not, and hides the
    difference the attack reads."""
    scores = logits(model)
    values = np.concatenate(
        [scores(tf.constant(images[start : start + 500], tf.float32)).numpy() for start in range(0, len(images), 500)]
    ).astype(np.float64)  # (n, 10)
    shifted = values - values.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), np.asarray(labels)]


def attack(member_losses: np.ndarray, other_losses: np.ndarray) -> Membership:
    """The attack's ROC over every threshold, and its AUC (the chance a member's loss is below a non-member's)."""
    members, others = np.asarray(member_losses, float), np.asarray(other_losses, float)
    thresholds = np.unique(np.concatenate([members, others]))
    true = np.concatenate([[0.0], np.searchsorted(np.sort(members), thresholds, side="right") / len(members)])
    false = np.concatenate([[0.0], np.searchsorted(np.sort(others), thresholds, side="right") / len(others)])
    below = (others[None, :] > members[:, None]).sum() + 0.5 * (others[None, :] == members[:, None]).sum()
    return Membership(false, true, float(below / (len(members) * len(others))), float(np.max(true - false)))


def small_sets(data: Mnist, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(members, non-members): two disjoint stratified sets of MEMBERS training digits' indices."""
    both = stratified_subset(data.y_train, 2 * MEMBERS, seed=seed)
    return both[::2], both[1::2]


def fit(
    config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    passes: int = PASSES,
    seed: int = 0,
    on_progress=None,
) -> tuple[keras.Model, Spend | None]:
    """A network trained on exactly these digits ((n, 28, 28) uint8) as `config` says but for `passes` epochs, none
    held out; its spend."""
    config = dataclasses.replace(config, epochs=passes)
    keras.utils.set_random_seed(seed)
    steps_per_epoch = math.ceil(len(labels) / config.batch_size)
    privacy = private_spend(config, len(labels), steps_per_epoch)
    model = compiled_model(config, steps_per_epoch, privacy=privacy)
    batches = training_dataset(
        images, labels, batch_size=config.batch_size, epochs=config.epochs, seed=seed, augment=False
    ).map(lambda x, y: (x, tf.one_hot(y, NUM_CLASSES)))

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None) -> None:
            if on_progress is not None:
                on_progress((epoch + 1) / config.epochs)

    model.fit(batches, epochs=config.epochs, steps_per_epoch=steps_per_epoch, verbose=0, callbacks=[Progress()])
    return getattr(model, "network", model), privacy


def twins(data: Mnist, *, seed: int = 0) -> dict[str, dict]:
    """The overfitting network and its private twin on the same members: each one's attack, test accuracy and ε."""
    members, others = small_sets(data, seed=seed)
    tests = data.x_test / np.float32(255)
    results = {}
    for name, config in (("overfit", OVERFIT), ("private", PRIVATE_TWIN)):
        network, spend = fit(config, data.x_train[members], data.y_train[members], seed=seed)
        scores = attack(
            losses(network, data.x_train[members] / np.float32(255), data.y_train[members]),
            losses(network, data.x_train[others] / np.float32(255), data.y_train[others]),
        )
        results[name] = {
            "false_positive": scores.false_positive,
            "true_positive": scores.true_positive,
            "auc": scores.auc,
            "advantage": scores.advantage,
            "test_accuracy": float((predict_proba(network, tests).argmax(axis=1) == data.y_test).mean()),
            "epsilon": spend.epsilon if spend else math.inf,
        }
    return results


@dataclass(frozen=True)
class Canary:
    """What one network remembers of a drawing planted once in its training digits."""

    private: bool
    epsilon: float  # inf for the network trained without privacy
    rank: int  # 1 = the planted drawing's loss is the lowest among it and its CANARY_COPIES unplanted copies
    copies: int
    member: bool  # the attack's verdict: its loss is below the network's average loss on its training digits
    loss: float
    threshold: float


def plant(
    drawing: np.ndarray, label: int, data: Mnist, *, passes: int = PASSES, seed: int = 0, on_progress=None
) -> list[Canary]:
    """Plant a visitor's drawing ((28, 28) in [0, 1]) labelled `label` among the members; train the overfitting
    network and its private twin on them; how each remembers it."""
    if not 0 <= label < NUM_CLASSES:
        raise ValueError(Text("The label must be a digit from 0 to 9."))
    members, _ = small_sets(data, seed=seed)
    canary = (np.clip(np.asarray(drawing, np.float32), 0, 1) * 255).astype(np.uint8)
    images = np.concatenate([data.x_train[members], canary[None]])
    labels = np.concatenate([data.y_train[members], [label]]).astype(data.y_train.dtype)
    suspects = np.concatenate(
        [canary[None] / np.float32(255), distorted(canary[None] / 255.0, CANARY_COPIES, seed=seed)]
    )
    results = []
    for number, (private, config) in enumerate(((False, OVERFIT), (True, PRIVATE_TWIN))):
        progress = None if on_progress is None else (lambda share, n=number: on_progress((n + share) / 2))
        network, spend = fit(config, images, labels, passes=passes, seed=seed, on_progress=progress)
        scores = losses(network, suspects, np.full(len(suspects), label))
        threshold = float(losses(network, images / np.float32(255), labels).mean())  # Yeom et al.'s threshold
        rank = int((scores[1:] < scores[0]).sum()) + 1
        epsilon = spend.epsilon if spend else math.inf
        results.append(
            Canary(private, epsilon, rank, CANARY_COPIES + 1, bool(scores[0] < threshold), scores[0], threshold)
        )
    return results


CANARY_MB = 900.0  # a training process, the per-digit gradients of the private twin's batches of 32


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
