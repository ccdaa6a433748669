"""Robust training: the fast adversarial training of Wong, Rice & Kolter 2020 (FGSM from a random start), and the
PGD check after each epoch that catches its catastrophic overfitting.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from core.attacks import pgd
from core.models import logits, predict_proba, update_metrics


class FastAdversarialTraining(keras.Model):
    """Trains `network` on FGSM examples from a random start (Wong, Rice & Kolter 2020).

    Each step draws δ uniformly in [-ε, ε], takes one signed-gradient step of 1.25 ε from there,
    projects back into the ε-box and trains on the result: about twice a plain step's cost, against
    PGD training's (steps + 1) times. Fit this wrapper; keep `network`.
    """

    STEP = 1.25  # FGSM step in units of ε (Wong et al.'s α = 1.25 ε)

    def __init__(self, network: keras.Model, eps: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network, self.eps = network, float(eps)
        self.scores = logits(network)

    def call(self, images, training=False):
        return self.network(images, training=training)

    def train_step(self, data):
        images, targets = data  # (B, 28, 28) in [0, 1]; (B, 10) one-hot, perhaps smoothed
        delta = tf.random.uniform(tf.shape(images), -self.eps, self.eps)
        with tf.GradientTape() as tape:
            tape.watch(delta)
            start = tf.clip_by_value(images + delta, 0.0, 1.0)
            loss = tf.nn.softmax_cross_entropy_with_logits(targets, self.scores(start, training=True))
        delta += self.STEP * self.eps * tf.sign(tape.gradient(loss, delta))
        delta = tf.clip_by_value(delta, -self.eps, self.eps)
        adversarial = tf.stop_gradient(tf.clip_by_value(images + delta, 0.0, 1.0))
        with tf.GradientTape() as tape:
            predicted = self(adversarial, training=True)
            loss = self.compute_loss(x=adversarial, y=targets, y_pred=predicted)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return update_metrics(self, loss, targets, predicted)


CHECK_DIGITS = 500  # held-out digits attacked (PGD-10) after each epoch of adversarial training


class RobustCheck(keras.callbacks.Callback):
    """After each epoch, PGD-10 accuracy on held-out digits, in history["robust"]; at the end, the best epoch.

    FGSM training can collapse within an epoch ("catastrophic overfitting": PGD accuracy falls to
    near 0 while FGSM accuracy climbs, Wong et al. 2020); this check shows it and undoes it.
    """

    def __init__(self, network: keras.Model, images: np.ndarray, labels: np.ndarray, eps: float, history: dict) -> None:
        super().__init__()
        self.network, self.eps = network, eps
        self.images, self.labels = images[:CHECK_DIGITS], np.asarray(labels[:CHECK_DIGITS])
        self.history = history
        history["robust"] = []  # (step, loss, accuracy) under attack, once per epoch
        self.step, self.best_accuracy, self.best_weights = 0, -1.0, None

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.step += 1

    def on_epoch_end(self, epoch, logs=None) -> None:
        attacked = pgd(self.network, self.images, self.labels, self.eps, steps=10, seed=epoch)
        probabilities = predict_proba(self.network, attacked)
        accuracy = float((probabilities.argmax(axis=1) == self.labels).mean())
        loss = float(-np.log(probabilities[np.arange(len(self.labels)), self.labels] + 1e-12).mean())
        self.history["robust"].append((self.step, loss, accuracy))
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_weights = accuracy, self.network.get_weights()

    def on_train_end(self, logs=None) -> None:
        latest = self.history["robust"][-1][2] if self.history["robust"] else None
        if self.best_weights is not None and latest is not None and latest < self.best_accuracy:
            self.network.set_weights(self.best_weights)
