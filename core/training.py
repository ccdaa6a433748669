"""Training a network on MNIST: hyperparameters, presets, the input pipeline and the loop."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.adversarial import ATTACKS, FastAdversarialTraining, RobustCheck, robustness_curve
from core.augment import augment_batch
from core.data import NUM_CLASSES, Mnist
from core.distill import Distillation, Distiller, wrap
from core.models import build_cnn, build_mlp, predict_proba


def training_dataset(
    images: np.ndarray, labels: np.ndarray, *, batch_size: int, epochs: int, seed: int, augment: bool
) -> tf.data.Dataset:
    """Shuffled (B, 28, 28) float32 batches for `epochs` epochs; images stay uint8 until batched."""
    data = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
    data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size).repeat(epochs)

    def prepare(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = batch
        if augment:  # a different, reproducible distortion for every step
            return augment_batch(x, tf.stack([tf.constant(seed, tf.int64), step])), y
        return tf.cast(x, tf.float32) / 255.0, y

    return data.enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


ARCHITECTURES = ("mlp", "cnn", "deep_cnn")
ACTIVATIONS = ("relu", "gelu", "elu", "tanh")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "one_cycle", "warmup_cosine")
MIN_TRAIN_SIZE, MAX_TRAIN_SIZE = 1_000, 60_000  # digits, stratified by class


def _stops(low: float, high: float, step: float) -> tuple[float, ...]:
    return tuple(round(low + index * step, 6) for index in range(round((high - low) / step) + 1))


# Every value each field may take: the Train page's stops, a link's allowed values and validate()'s
# rule are this one table, so a configuration from anywhere is one the page can show.
CHOICES: dict[str, tuple | range] = {
    "architecture": ARCHITECTURES,
    "conv_blocks": (1, 2, 3),
    "filters": (4, 8, 16, 32, 64),
    "dense_units": (16, 32, 64, 128, 256, 512),
    "dropout": _stops(0.0, 0.8, 0.05),
    "batch_norm": (False, True),
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "learning_rate": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1),
    "schedule": SCHEDULES,
    "weight_decay": (0.0, 1e-5, 1e-4, 1e-3, 1e-2),
    "label_smoothing": _stops(0.0, 0.3, 0.05),
    "batch_size": (32, 64, 128, 256, 512),
    "epochs": tuple(range(1, 21)),
    "train_size": (MIN_TRAIN_SIZE, 5_000, 10_000, 30_000, MAX_TRAIN_SIZE),
    "augment": (False, True),
    "validation_share": _stops(0.05, 0.3, 0.05),
    "adversarial_eps": (0.0, 0.05, 0.1, 0.15, 0.2, 0.3),
    "seed": range(2**31),
}


def nearest_choice(name: str, value: float) -> float:
    """The allowed value of a numeric field closest to `value` (on a log scale for rates and sizes)."""
    allowed = CHOICES[name]
    if isinstance(allowed, range):
        return min(max(round(value), allowed.start), allowed.stop - 1)
    if all(choice > 0 for choice in allowed) and value > 0 and max(allowed) / min(allowed) > 20:
        return min(allowed, key=lambda choice: abs(math.log(choice / value)))
    return min(allowed, key=lambda choice: abs(choice - value))


def _is_choice(name: str, value) -> bool:
    allowed = CHOICES[name]
    kind = type(allowed[0])
    if kind is float:  # 0 and 1 may come as ints; a bool is never a number here
        return type(value) in (int, float) and any(math.isclose(value, choice, abs_tol=1e-9) for choice in allowed)
    return type(value) is kind and value in allowed


@dataclass(frozen=True)
class TrainConfig:
    architecture: str = "cnn"  # "mlp": dense only; "cnn": one conv per block; "deep_cnn": two convs per block
    conv_blocks: int = 2  # CNNs: each block halves the resolution and doubles the filters (1-3)
    filters: int = 16  # CNNs: filters in the first block
    dense_units: int = 128  # units of the hidden dense layer (the MLP's only hidden layer)
    dropout: float = 0.2  # share of units dropped while training, in [0, 0.8]
    batch_norm: bool = True  # normalise activations per batch: faster, steadier training at high rates
    activation: str = "relu"  # one of ACTIVATIONS
    optimizer: str = "adam"  # "sgd" (with Nesterov momentum 0.9), "adam", "adamw", "rmsprop"
    learning_rate: float = 3e-3  # peak rate; "one_cycle" and "warmup_cosine" rise to it, then decay
    schedule: str = "one_cycle"  # "constant"; "one_cycle": 30% linear rise, cosine fall; "warmup_cosine": 1 epoch rise
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) or L2-style decay for the others
    label_smoothing: float = 0.0  # spread this much target probability over the wrong classes
    batch_size: int = 128  # digits per step: larger is faster per epoch on CPU, noisier gradients when small
    epochs: int = 2  # passes over the training subset
    train_size: int = 60_000  # training digits, a stratified subset of MNIST's 60,000
    augment: bool = False  # random rotation, scale, shear, shift and stroke width, like drawings
    validation_share: float = 0.1  # share of the training subset held out to validate each epoch
    adversarial_eps: float = 0.0  # > 0: train on FGSM attacks (random start) changing pixels by up to this; ~2x slower
    seed: int = 0  # same config and seed, same curves

    def validate(self) -> None:
        """Raise ValueError with a message a person can act on if any field is not one of its CHOICES."""
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if _is_choice(name, value):
                continue
            label = name.replace("_", " ")
            if isinstance(allowed, range):
                raise ValueError(f"{label} must be a whole number from {allowed.start} to {allowed.stop - 1}")
            if len(allowed) > 8:  # a fine scale: name its ends and step
                step = f" in steps of {allowed[1] - allowed[0]:g}" if isinstance(allowed[0], float) else ""
                raise ValueError(f"{label} must be from {allowed[0]:g} to {allowed[-1]:g}{step}; got {value!r}")
            shown = ", ".join(f"{choice:g}" if isinstance(choice, float) else str(choice) for choice in allowed)
            raise ValueError(f"{label} must be one of {shown}; got {value!r}")


PRESETS = {
    # The default: >= 99.0% test accuracy as fast as possible on 2 CPU cores (measured: 99.07% in 43 s).
    "quick": TrainConfig(batch_size=256, learning_rate=1e-2),
    # Deeper, with augmentation: as many epochs as finish inside the 10-minute run limit on 2 cores.
    "accurate": TrainConfig(
        architecture="deep_cnn", filters=32, dense_units=256, dropout=0.3, epochs=4, augment=True, label_smoothing=0.05
    ),
    # Trained on FGSM attacks at ε = 0.1 (Wong et al. 2020): measured 95.4% of test digits read right under
    # PGD-20 at ε = 0.1 (the default model: 11%), 99.2% clean, in 147 s (bench/adversarial.py).
    "robust": TrainConfig(batch_size=256, learning_rate=1e-2, epochs=4, adversarial_eps=0.1),
    # Under-fits in seconds: a demo of what too small a model and too little data do.
    "tiny_mlp": TrainConfig(
        architecture="mlp", dense_units=16, dropout=0.0, batch_norm=False, epochs=1, train_size=5_000, batch_size=64
    ),
}


# Students to distil into (core.distill), each with under 1/20 of the default model's 825,514 parameters. With few
# labelled digits the teacher's answers teach most (Hinton et al. 2015): bench/compress.py measures both.
STUDENTS = {
    "Small CNN · 5,000 digits": TrainConfig(architecture="deep_cnn", conv_blocks=3, filters=8, dense_units=64,
                                            dropout=0.1, train_size=5_000, epochs=20, learning_rate=1e-2),
    "Small CNN · 60,000 digits": TrainConfig(architecture="deep_cnn", conv_blocks=3, filters=8, dense_units=64,
                                             dropout=0.1, epochs=4, batch_size=256, learning_rate=1e-2),
    "Small MLP · 60,000 digits": TrainConfig(architecture="mlp", dense_units=32, dropout=0.0, batch_norm=False,
                                             epochs=4),
}  # fmt: skip


@dataclass(frozen=True)
class Progress:
    epoch: int  # 1-based epoch in progress
    epochs: int
    step: int  # steps done in all epochs so far
    steps: int  # steps in the whole run
    seconds: float  # since training started
    history: dict  # see TrainResult.history

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


def stratified_subset(labels: np.ndarray, size: int, *, seed: int) -> np.ndarray:
    """Indices of `size` examples with every class in its original proportion, shuffled."""
    rng = np.random.default_rng(seed)
    if size >= len(labels):
        return rng.permutation(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    exact = size * counts / len(labels)
    quota = np.floor(exact).astype(int)
    quota[np.argsort(quota - exact)[: size - quota.sum()]] += 1  # largest remainders take the rest
    picked = [rng.choice(np.flatnonzero(labels == c), n, replace=False) for c, n in zip(classes, quota, strict=True)]
    return rng.permutation(np.concatenate(picked))


def split(config: TrainConfig, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) indices into MNIST's training digits for a config: the run never trains on the second."""
    subset = stratified_subset(labels, config.train_size, seed=config.seed)
    held_out = max(1, round(len(subset) * config.validation_share))
    return subset[held_out:], subset[:held_out]


def build(config: TrainConfig) -> keras.Model:
    """The network a config describes."""
    if config.architecture == "mlp":
        return build_mlp(hidden_units=(config.dense_units,), dropout=config.dropout, activation=config.activation)
    return build_cnn(
        conv_blocks=config.conv_blocks, convs_per_block=2 if config.architecture == "deep_cnn" else 1,
        filters=config.filters, dense_units=config.dense_units, dropout=config.dropout,
        batch_norm=config.batch_norm, activation=config.activation,
        batch_norm_momentum=0.9,  # running statistics that settle within a short run, or a stopped one
    )  # fmt: skip


def _learning_rate(config: TrainConfig, steps: int, steps_per_epoch: int):
    if config.schedule == "constant":
        return config.learning_rate
    warmup = int(0.3 * steps) if config.schedule == "one_cycle" else min(steps_per_epoch, steps // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 25, decay_steps=max(1, steps - warmup),
        warmup_target=config.learning_rate, warmup_steps=warmup,
    )  # fmt: skip


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

    def __init__(self, epochs: int, steps_per_epoch: int, on_progress, should_stop, every: int, on_stop=None) -> None:
        super().__init__()
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
            self.on_progress(Progress(self.epoch, self.epochs, self.step, steps, seconds, history))

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


def compiled_model(config: TrainConfig, steps_per_epoch: int, distillation: Distillation | None = None) -> keras.Model:
    """The network, optimiser, schedule and loss a config describes, ready to fit.

    With `adversarial_eps` the network comes wrapped in FastAdversarialTraining, with a distillation
    in a Distiller: fit the wrapper, keep its `.network`.
    """
    model = build(config)
    if config.adversarial_eps and distillation is not None:
        raise ValueError("a student is distilled without adversarial training: set adversarial ε to 0")
    if config.adversarial_eps:
        model = FastAdversarialTraining(model, config.adversarial_eps)
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
    config: TrainConfig, data: Mnist, *, on_progress=None, should_stop=None, on_fitted=None, report_every: int = 25,
    distillation: Distillation | None = None,
) -> TrainResult:  # fmt: skip
    """Train the network `config` describes on MNIST; report progress and stop early when asked.

    `on_fitted(model)` is called when fitting ends, before the (slower) evaluation on the test set.
    With a `distillation`, the network learns from its teacher's answers as well as from the labels.
    """
    config.validate()
    keras.utils.set_random_seed(config.seed)
    train_indices, validation_indices = split(config, data.y_train)
    steps_per_epoch = math.ceil(len(train_indices) / config.batch_size)

    model = compiled_model(config, steps_per_epoch, distillation)  # what fit() trains
    network = model.network if isinstance(model, FastAdversarialTraining | Distiller) else model  # what is kept
    batches = training_dataset(
        data.x_train[train_indices], data.y_train[train_indices], batch_size=config.batch_size,
        epochs=config.epochs, seed=config.seed, augment=config.augment,
    ).map(lambda x, y: (x, tf.one_hot(y, NUM_CLASSES)))  # fmt: skip
    validation_images = data.x_train[validation_indices].astype(np.float32) / 255.0
    validation = (validation_images, keras.utils.to_categorical(data.y_train[validation_indices], NUM_CLASSES))
    handed_over = []

    def hand_over() -> None:  # the fitted network, once: when stopped, or when fitting ends
        if on_fitted is not None and not handed_over:
            handed_over.append(True)
            on_fitted(network)

    reporter = _Reporter(config.epochs, steps_per_epoch, on_progress, should_stop, report_every, hand_over)
    callbacks = [reporter]
    if config.adversarial_eps:  # before the reporter, so each epoch's report carries its check
        labels = data.y_train[validation_indices]
        callbacks.insert(0, RobustCheck(network, validation_images, labels, config.adversarial_eps, reporter.history))
    model.fit(
        batches, epochs=config.epochs, steps_per_epoch=steps_per_epoch, validation_data=validation,
        validation_batch_size=1000, callbacks=callbacks, verbose=0,
    )  # fmt: skip
    seconds = time.perf_counter() - reporter.start
    hand_over()
    accuracy, robust = score(network, config, data)
    teacher = distillation.teacher_name if distillation else None
    return TrainResult(network, reporter.history, accuracy, seconds, reporter.stopped, robust, teacher)


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
