"""Training a network on MNIST as its configuration says: the input pipeline (uint8 until each batch), the
optimiser and schedule, progress and Stop, and the test-set score.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.attacks import ATTACKS, robustness_curve
from core.data_quality import cleaned
from core.distill import Distillation, Distiller, wrap
from core.i18n import Text
from core.models import predict_proba
from core.pictures.augment import augment_batch
from core.pictures.data import NUM_CLASSES, Mnist
from core.privacy import PrivateTraining, Spend, noise_for
from core.robust_training import FastAdversarialTraining, RobustCheck
from core.training.architectures import ARCHITECTURES
from core.training.config import TrainConfig, split


def training_dataset(
    images: np.ndarray, labels: np.ndarray, *, batch_size: int, epochs: int | None, seed: int, augment: bool
) -> tf.data.Dataset:
    """Shuffled (B, 28, 28) float32 batches for `epochs` epochs (None: for ever); images stay uint8 until batched."""
    data = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
    data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size).repeat(epochs)

    def prepare(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = batch
        if augment:  # a different, reproducible distortion for every step
            return augment_batch(x, tf.stack([tf.constant(seed, tf.int64), step])), y
        return tf.cast(x, tf.float32) / 255.0, y

    return data.enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


@dataclass(frozen=True)
class Progress:
    epoch: int  # 1-based epoch in progress
    epochs: int
    step: int  # steps done in all epochs so far
    steps: int  # steps in the whole run
    seconds: float  # since training started
    history: dict  # see TrainResult.history
    privacy: Spend | None = None  # a private run's spend so far

    @property
    def seconds_left(self) -> float:
        """Estimated from the pace so far."""
        return self.seconds / max(self.step, 1) * (self.steps - self.step)


@dataclass
class TrainResult:
    model: keras.Model
    history: dict  # "train": [(step, loss, accuracy)], "validation": [(step, loss, accuracy)] per epoch
    test_accuracy: float  # on MNIST's 10,000 test digits
    seconds: float  # training time, evaluation excluded
    stopped: bool  # True if should_stop ended training early
    robust_accuracy: float | None = None  # adversarially trained: PGD-20 accuracy at its ε on ROBUST_TEST_DIGITS
    teacher: str | None = None  # distilled: the teacher's name
    corrected: int = 0  # training labels a person corrected or left out for this run
    privacy: Spend | None = None  # a private run's noise, clipping, sampling rate, steps taken and so its ε


def build(config: TrainConfig) -> keras.Model:
    """The network a config describes."""
    return ARCHITECTURES[config.architecture].build(config)


def _learning_rate(config: TrainConfig, steps: int, steps_per_epoch: int):
    if config.schedule == "constant":
        return config.learning_rate
    warmup = int(0.3 * steps) if config.schedule == "one_cycle" else min(steps_per_epoch, steps // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 25,
        decay_steps=max(1, steps - warmup),
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
    )


def _optimizer(config: TrainConfig, learning_rate) -> keras.optimizers.Optimizer:
    decay = config.weight_decay or None
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True, weight_decay=decay)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, weight_decay=decay)
    return keras.optimizers.Adam(learning_rate, weight_decay=decay)


class _Reporter(keras.callbacks.Callback):
    """Collects the curves, reports progress every few dozen steps, and stops when asked."""

    def __init__(
        self, epochs: int, steps_per_epoch: int, on_progress, should_stop, every: int, on_stop=None, privacy=None
    ) -> None:
        super().__init__()
        self.privacy = privacy
        self.epochs, self.steps_per_epoch, self.every = epochs, steps_per_epoch, every
        self.on_progress, self.should_stop, self.on_stop = on_progress, should_stop, on_stop
        self.history = {"train": [], "validation": []}
        self.step, self.epoch, self.stopped = 0, 1, False
        self.start = time.perf_counter()

    def _report(self) -> None:
        if self.on_progress is not None:
            history = {key: list(points) for key, points in self.history.items()}
            seconds = time.perf_counter() - self.start
            steps = self.epochs * self.steps_per_epoch
            spent = dataclasses.replace(self.privacy, steps=self.step) if self.privacy else None
            self.on_progress(Progress(self.epoch, self.epochs, self.step, steps, seconds, history, spent))

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.step += 1
        if self.step % self.every == 0:
            self.history["train"].append((self.step, float(logs["loss"]), float(logs["accuracy"])))
            self._report()
        if self.should_stop is not None and self.should_stop() and not self.stopped:
            self.stopped = True
            self.model.stop_training = True
            if self.on_stop is not None:  # now: Keras still validates the epoch after a stop (a first one traces)
                self.on_stop()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if logs and "val_loss" in logs:
            self.history["validation"].append((self.step, float(logs["val_loss"]), float(logs["val_accuracy"])))
        self._report()


def private_spend(config: TrainConfig, training_digits: int, steps_per_epoch: int) -> Spend | None:
    """A private run's noise, solved so that its planned steps spend `config.dp_epsilon`; None for a run without
    privacy.

    The batches are shuffled, fixed-size ones; the accountant counts each as a Poisson sample at the same rate, as
    Abadi et al.'s and most DP-SGD code do.
    """
    if not config.dp_epsilon:
        return None
    sample_rate = min(1.0, config.batch_size / training_digits)
    planned = config.epochs * steps_per_epoch
    return Spend(noise_for(config.dp_epsilon, sample_rate, planned), config.dp_clip, sample_rate, planned)


def compiled_model(
    config: TrainConfig,
    steps_per_epoch: int,
    distillation: Distillation | None = None,
    privacy: Spend | None = None,
) -> keras.Model:
    """The network, optimiser, schedule and loss a config describes, ready to fit.

    With `adversarial_eps` the network comes wrapped in FastAdversarialTraining, with a distillation
    in a Distiller, with `privacy` in PrivateTraining: fit the wrapper, keep its `.network`.
    """
    model = build(config)
    if (config.adversarial_eps or privacy) and distillation is not None:
        raise ValueError(Text("a student is distilled without adversarial training or privacy: set both to 0"))
    if config.adversarial_eps:
        model = FastAdversarialTraining(model, config.adversarial_eps)
    if privacy is not None:
        model = PrivateTraining(model, privacy.noise_multiplier, privacy.clip, config.batch_size)
    if distillation is not None:
        distillation.validate()
        model = wrap(model, distillation)
    schedule = _learning_rate(config, steps_per_epoch * config.epochs, steps_per_epoch)
    model.compile(
        optimizer=_optimizer(config, schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def train(
    config: TrainConfig,
    data: Mnist,
    *,
    on_progress=None,
    should_stop=None,
    on_fitted=None,
    report_every: int = 25,
    distillation: Distillation | None = None,
    corrections: Mapping[int, int | None] | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> TrainResult:
    """Train the network `config` describes on MNIST; report progress and stop early when asked.

    `on_fitted(model)` is called when fitting ends, before the (slower) evaluation on the test set.
    With a `distillation`, the network learns from its teacher's answers as well as from the labels.
    `corrections` ({training index: digit, or None to leave it out}) and `config.drop_suspects` clean the
    training digits; the run takes as many steps as on the digits as they are, so the two compare. `callbacks`
    (a benchmark's) are called after the run's own.
    """
    config.validate()
    keras.utils.set_random_seed(config.seed)
    train_indices, validation_indices = split(config, data.y_train)
    steps_per_epoch = math.ceil(len(train_indices) / config.batch_size)
    subset_size = len(train_indices)
    train_indices, train_labels = cleaned(
        train_indices, data.y_train, drop=config.drop_suspects, corrections=corrections
    )

    privacy = private_spend(config, len(train_indices), steps_per_epoch)
    model = compiled_model(config, steps_per_epoch, distillation, privacy)  # what fit() trains
    wrapped = isinstance(model, FastAdversarialTraining | Distiller | PrivateTraining)
    network = model.network if wrapped else model  # what is kept
    batches = training_dataset(
        data.x_train[train_indices],
        train_labels,
        batch_size=config.batch_size,
        epochs=config.epochs if len(train_labels) == subset_size else None,  # fewer digits: as many steps
        seed=config.seed,
        augment=config.augment,
    ).map(lambda x, y: (x, tf.one_hot(y, NUM_CLASSES)))
    validation_images = data.x_train[validation_indices].astype(np.float32) / 255.0
    validation = (validation_images, keras.utils.to_categorical(data.y_train[validation_indices], NUM_CLASSES))
    handed_over = []

    def hand_over() -> None:  # the fitted network, once: when stopped, or when fitting ends
        if on_fitted is not None and not handed_over:
            handed_over.append(True)
            on_fitted(network)

    reporter = _Reporter(config.epochs, steps_per_epoch, on_progress, should_stop, report_every, hand_over, privacy)
    callbacks = [reporter, *(callbacks or [])]
    if config.adversarial_eps:  # before the reporter, so each epoch's report carries its check
        labels = data.y_train[validation_indices]
        callbacks.insert(0, RobustCheck(network, validation_images, labels, config.adversarial_eps, reporter.history))
    model.fit(
        batches,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        validation_batch_size=1000,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - reporter.start
    hand_over()
    accuracy, robust = score(network, config, data)
    teacher = distillation.teacher_name if distillation else None
    corrected = len(corrections or {})
    spent = dataclasses.replace(privacy, steps=reporter.step) if privacy else None
    return TrainResult(
        network, reporter.history, accuracy, seconds, reporter.stopped, robust, teacher, corrected, spent
    )


ROBUST_TEST_DIGITS = 1_000  # PGD-20 on all 10,000 test digits would take a minute more per run


def score(model: keras.Model, config: TrainConfig, data: Mnist) -> tuple[float, float | None]:
    """(test accuracy, PGD-20 accuracy at the run's ε on the first ROBUST_TEST_DIGITS, or None if not robust)."""
    images = data.x_test / np.float32(255)
    accuracy = float((predict_proba(model, images).argmax(axis=1) == data.y_test).mean())
    if not config.adversarial_eps:
        return accuracy, None
    count = ROBUST_TEST_DIGITS
    robust = robustness_curve(model, images[:count], data.y_test[:count], [config.adversarial_eps], ATTACKS["PGD-20"])
    return accuracy, float(robust[0])
