"""Privacy: training with differential privacy (DP-SGD, Abadi et al. 2016) and its accountant. What a network gives
away without it is core.membership's.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

import keras
import tensorflow as tf
from keras import layers

from core.i18n import Text
from core.models import logits, update_metrics
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, NUM_CLASSES

SWEEP_PATH = (
    ASSETS_DIR / "privacy_sweep.json"
)  # accuracy against ε, and the membership attack (scripts/privacy_sweep.py)
DELTA = 1e-5  # δ of every private run: well below 1 / 60,000 training digits
MAX_NOISE = 100.0  # noise multipliers are searched up to this


def epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float = DELTA) -> float:
    """ε of DP-SGD: `steps` steps, each a Poisson sample of the data at `sample_rate`, its clipped gradients summed
    with Gaussian noise of `noise_multiplier` times the clipping norm. Rényi DP (Mironov 2017) through dp-accounting,
    an upper bound; inf without noise."""
    if noise_multiplier <= 0:
        return math.inf
    if not 0 < sample_rate <= 1 or steps < 1 or not 0 < delta < 1:
        raise ValueError(Text("the sampling rate must be in (0, 1], the steps at least 1 and δ in (0, 1)"))
    import dp_accounting  # scipy and mpmath: only where a private run is counted
    from dp_accounting import rdp

    step = dp_accounting.PoissonSampledDpEvent(sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier))
    accountant = rdp.RdpAccountant()
    accountant.compose(dp_accounting.SelfComposedDpEvent(step, int(steps)))
    return float(accountant.get_epsilon(delta))


def noise_for(target_epsilon: float, sample_rate: float, steps: int, delta: float = DELTA) -> float:
    """The smallest noise multiplier (to 0.1%) whose run spends at most `target_epsilon`."""
    if target_epsilon <= 0:
        raise ValueError(Text("a private run's ε must be above 0"))
    low, high = 0.1, MAX_NOISE
    if epsilon(high, sample_rate, steps, delta) > target_epsilon:
        raise ValueError(
            Text(
                "ε {target_epsilon:g} needs more noise than {MAX_NOISE:g}: take fewer steps or a larger ε",
                target_epsilon=target_epsilon,
                MAX_NOISE=MAX_NOISE,
            )
        )
    while high / low > 1.001:
        middle = math.sqrt(low * high)
        low, high = (low, middle) if epsilon(middle, sample_rate, steps, delta) <= target_epsilon else (middle, high)
    return high


@dataclass(frozen=True)
class Spend:
    """What a private run was and what it spent: everything another accountant needs to check its ε."""

    noise_multiplier: float  # Gaussian noise, in units of the clipping norm
    clip: float  # each digit's gradient clipped to this L2 norm
    sample_rate: float  # batch size / training digits
    steps: int  # steps taken (a stopped run spends less)
    delta: float = DELTA

    @functools.cached_property  # the accountant takes a fraction of a second; a page reads ε every run
    def epsilon(self) -> float:
        return epsilon(self.noise_multiplier, self.sample_rate, self.steps, self.delta)


def build_private_cnn(*, filters: int = 16, dense_units: int = 32, activation: str = "tanh") -> keras.Model:
    """The small CNN of Papernot et al. 2021 for private MNIST: two strided convolutions and a little max pooling,
    no batch norm (it mixes examples); tanh, a tempered sigmoid, keeps activations and so gradients bounded.
    (B, 28, 28) -> (B, 10) probabilities; about 26,000 parameters."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    x = layers.Conv2D(filters, 8, strides=2, padding="same", activation=activation)(x)  # (B, 14, 14, f)
    x = layers.MaxPooling2D(2, strides=1)(x)  # (B, 13, 13, f)
    x = layers.Conv2D(2 * filters, 4, strides=2, activation=activation)(x)  # (B, 5, 5, 2f)
    x = layers.MaxPooling2D(2, strides=1)(x)  # (B, 4, 4, 2f)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation=activation)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="private_cnn")


class PrivateTraining(keras.Model):
    """Trains `network` by DP-SGD: each digit's gradient clipped to `clip`, the batch's sum noised with
    N(0, (noise · clip)²), divided by the batch size. Fit this wrapper; keep `network`."""

    def __init__(self, network: keras.Model, noise_multiplier: float, clip: float, batch_size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network, self.noise_multiplier, self.clip = network, float(noise_multiplier), float(clip)
        self.batch_size = int(batch_size)
        self.scores = logits(network)

    def call(self, images, training=False):
        return self.network(images, training=training)

    def train_step(self, data):
        images, targets = data[0], tf.cast(data[1], tf.float32)  # (B, 28, 28) in [0, 1]; (B, 10) one-hot
        variables = self.network.trainable_variables

        def clipped_gradient(example):
            image, target = example
            with tf.GradientTape() as tape:
                loss = tf.nn.softmax_cross_entropy_with_logits(target[None], self.scores(image[None], training=True))
            gradients = tape.gradient(loss, variables)
            norm = tf.linalg.global_norm(gradients)
            return [g * tf.minimum(1.0, self.clip / (norm + 1e-12)) for g in gradients]

        per_digit = tf.vectorized_map(clipped_gradient, (images, targets))  # each (B, *variable.shape)
        noisy = [
            (tf.reduce_sum(g, axis=0) + tf.random.normal(tf.shape(g)[1:], stddev=self.noise_multiplier * self.clip))
            / self.batch_size
            for g in per_digit
        ]
        self.optimizer.apply(noisy, variables)
        predicted = self.network(images, training=False)
        loss = keras.losses.categorical_crossentropy(targets, predicted)
        return update_metrics(self, loss, targets, predicted)


def shipped_sweep() -> dict | None:
    """The sweep scripts/privacy_sweep.py made (accuracy at each ε, the baseline, the attack on the twins), or None."""
    try:
        return json.loads(SWEEP_PATH.read_text())
    except (OSError, ValueError):
        return None
