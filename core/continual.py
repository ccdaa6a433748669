"""Continual learning on split MNIST: learn 0/1, then 2/3, 4/5, 6/7, 8/9, and see what is forgotten.

A network trained on one task after another forgets the earlier ones ("catastrophic forgetting", McCloskey & Cohen
1989). Methods that resist it, as compared by Hsu et al. 2018 and van de Ven & Tolias 2019 on the same network (an
MLP with two hidden layers of 400): replay (rehearse a few stored examples of earlier digits), EWC (Kirkpatrick et
al. 2017: anchor the weights that mattered, by their Fisher information), LwF (Li & Hoiem 2017: keep the old
network's answers on the new digits), and joint training on everything so far as the upper bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core import prepared
from core.i18n import Text
from core.pictures.data import IMAGE_SIZE, MNIST_PATH, NUM_CLASSES, Mnist
from core.runs.child import preload

TASKS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
TASK_NAMES = ["0/1", "2/3", "4/5", "6/7", "8/9"]
MEMORY_MB = 500.0  # a run above the server it forks from: MNIST (55 MB; test digits as floats 31 MB), TensorFlow
METHODS = ("finetune", "replay", "ewc", "lwf", "joint")
SCENARIOS = ("class", "task")
HIDDEN = (400, 400)  # van de Ven & Tolias 2019's network
FISHER_DIGITS = 200  # digits of a finished task whose gradients estimate its Fisher information
DISTILL_TEMPERATURE = 2.0  # LwF: softens the old network's answers
CURVE_POINTS = 10  # evaluations per task for the curves
CURVE_DIGITS = 300  # test digits per task behind each point of the curves (the matrix uses them all)
BLOCKED = -1e9  # a logit that takes no part: a class not yet seen (class scenario) or not in the task


@dataclass(frozen=True)
class ContinualConfig:
    method: str = "replay"  # "finetune": each task alone; "replay": rehearse stored digits; "ewc"; "lwf"; "joint"
    scenario: str = "class"  # "class": one head over every digit seen, task unknown; "task": only the task's 2 digits
    buffer_per_class: int = 50  # replay: digits kept of each class seen (50 per class is 500 in all)
    ewc_lambda: float = 1e5  # ewc: how strongly weights are held where earlier tasks' Fisher information is high
    steps_per_task: int = 600  # training steps on each task
    batch_size: int = 128  # digits per step (replay adds as many stored ones)
    learning_rate: float = 3e-4  # Adam (1e-3 forgets faster: replay of 50 per class fell from 86% to 84%)
    seed: int = 0  # same config and seed, same matrix

    def validate(self) -> None:
        """Raise ValueError with a message a person can act on."""
        for name, value, allowed in (("method", self.method, METHODS), ("scenario", self.scenario, SCENARIOS)):
            if value not in allowed:
                words = Text("{name} must be one of {allowed}; got {value!r}", name=name, allowed=allowed, value=value)
                raise ValueError(words)
        if not 1 <= self.buffer_per_class <= 1000:
            raise ValueError(Text("buffer per class must be from 1 to 1,000 digits"))
        if not 0 <= self.ewc_lambda <= 1e9:
            raise ValueError(Text("EWC's λ must be from 0 to 10⁹"))
        if not 10 <= self.steps_per_task <= 5000:
            raise ValueError(Text("steps per task must be from 10 to 5,000"))
        if not 8 <= self.batch_size <= 512:
            raise ValueError(Text("batch size must be from 8 to 512"))
        if not 1e-5 <= self.learning_rate <= 0.1:
            raise ValueError(Text("learning rate must be from 0.00001 to 0.1"))


@dataclass
class ContinualResult:
    config: ContinualConfig
    accuracy: np.ndarray  # (5, 5): row j after training task j, column i on task i's test digits; nan: not yet
    curves: list = field(default_factory=list)  # (step, [accuracy on each task's test digits, nan if not seen])
    test_counts: tuple[int, ...] = ()  # test digits behind each column
    seconds: float = 0.0
    stopped: bool = False

    @property
    def tasks_done(self) -> int:
        return int((~np.isnan(self.accuracy).all(axis=1)).sum())

    @property
    def averages(self) -> np.ndarray:
        """Mean accuracy over the tasks learnt so far, after each task learnt."""
        return np.array([np.mean(self.accuracy[j, : j + 1]) for j in range(self.tasks_done)])

    @property
    def average_accuracy(self) -> float:
        """Mean accuracy over the tasks learnt, after the last one learnt."""
        done = self.tasks_done
        return float(np.mean(self.accuracy[done - 1, :done])) if done else math.nan

    @property
    def forgetting(self) -> float:
        """Mean drop from each earlier task's best accuracy to its accuracy at the end (Chaudhry et al. 2018)."""
        done = self.tasks_done
        if done < 2:
            return 0.0
        best = np.nanmax(self.accuracy[: done - 1, : done - 1], axis=0)
        return float(np.mean(best - self.accuracy[done - 1, : done - 1]))

    def record(self) -> dict:
        """The result as plain lists, for a file (core.prepared)."""
        return {
            "accuracy": self.accuracy,
            "curve_steps": [step for step, _ in self.curves],
            "curve_values": [list(values) for _, values in self.curves],
            "test_counts": list(self.test_counts),
        }

    @classmethod
    def from_record(cls, config: ContinualConfig, record: dict, seconds: float = 0.0) -> ContinualResult:
        curves = [
            (int(step), np.asarray(values))
            for step, values in zip(record["curve_steps"], record["curve_values"], strict=True)
        ]
        counts = tuple(int(count) for count in record["test_counts"])
        return cls(config, np.asarray(record["accuracy"], np.float64), curves, counts, seconds)


def reference(config: ContinualConfig) -> ContinualResult | None:
    """This configuration's run, prepared ahead from the bundled data (scripts/prepare.py); None if not prepared."""
    record = prepared.load(reference_kind(config), MNIST_PATH, asdict(config))
    return None if record is None else ContinualResult.from_record(config, record)


def reference_kind(config: ContinualConfig) -> str:
    return f"continual-{config.method}-{config.scenario}"


@dataclass(frozen=True)
class ContinualProgress:
    task: int  # 1-based task being learnt
    step: int  # steps done over all tasks
    steps: int
    seconds: float
    result: ContinualResult  # the matrix and curves so far


def build_network() -> keras.Model:
    """The MLP of van de Ven & Tolias 2019: 784 -> 400 -> 400 -> 10 logits."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE))
    x = layers.Flatten()(inputs)
    for units in HIDDEN:
        x = layers.Dense(units, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES)(x), name="continual_mlp")


def class_mask(config: ContinualConfig, task: int) -> np.ndarray:
    """(10,) 0 for the logits that take part while learning or testing `task` (0-based), BLOCKED for the others."""
    mask = np.full(NUM_CLASSES, BLOCKED, np.float32)
    digits = TASKS[task] if config.scenario == "task" else [d for t in TASKS[: task + 1] for d in t]
    mask[list(digits)] = 0
    return mask


def replay_buffer(labels: np.ndarray, classes, per_class: int, *, seed: int) -> np.ndarray:
    """Indices of at most `per_class` training digits of each class in `classes`, chosen at random."""
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in classes]
    return np.concatenate(picked) if picked else np.zeros(0, int)


class _Learner:
    """The network, its optimiser and its one compiled training step, whatever the method."""

    def __init__(self, config: ContinualConfig) -> None:
        self.config = config
        self.network = build_network()
        self.old = build_network()  # LwF: the network as it was before the current task
        self.optimizer = keras.optimizers.Adam(config.learning_rate)
        self.fisher = [tf.Variable(tf.zeros_like(w), trainable=False) for w in self.network.trainable_variables]
        self.anchor = [tf.Variable(w, trainable=False) for w in self.network.trainable_variables]
        # One graph per run holding only what its method needs (a finetune step is a third of an LwF step's work).
        method = config.method
        self.step = tf.function(
            lambda *args: self._step(
                *args, replay=method == "replay", distill=method == "lwf", anchored=method == "ewc"
            )
        )

    def _step(
        self,
        x,
        y,
        mask,
        x_old,
        y_old,
        replay_mask,
        old_mask,
        replay_weight,
        distill_weight,
        ewc_lambda,
        *,
        replay: bool,
        distill: bool,
        anchored: bool,
    ):
        with tf.GradientTape() as tape:
            scores = self.network(x, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, scores + mask))
            if replay:
                old_scores = self.network(x_old, training=True) + replay_mask
                replayed = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y_old, old_scores))
                loss = (1 - replay_weight) * loss + replay_weight * replayed
            if distill:  # LwF: the old network's softened answers on the new digits, over the classes it knew
                teacher = tf.nn.softmax((self.old(x, training=False) + old_mask) / DISTILL_TEMPERATURE)
                student = tf.nn.log_softmax((scores + old_mask) / DISTILL_TEMPERATURE)
                kept = -tf.reduce_mean(tf.reduce_sum(tf.math.multiply_no_nan(student, teacher), axis=1))
                loss += distill_weight * DISTILL_TEMPERATURE**2 * kept
            if anchored:  # EWC
                weights = zip(self.fisher, self.network.trainable_variables, self.anchor, strict=True)
                loss += ewc_lambda / 2 * tf.add_n([tf.reduce_sum(f * (w - a) ** 2) for f, w, a in weights])
        variables = self.network.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    def consolidate(self, images: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> None:
        """EWC after a task: add its diagonal Fisher information (empirical, one digit at a time); anchor here."""
        variables = self.network.trainable_variables

        @tf.function
        def squared_gradients(x, y):
            with tf.GradientTape() as tape:
                logits = self.network(x[None], training=False) + mask
                loss = tf.nn.sparse_softmax_cross_entropy_with_logits(y[None], logits)
            return [g**2 for g in tape.gradient(loss, variables)]

        total = [np.zeros(v.shape, np.float32) for v in variables]
        for x, y in zip(images, labels, strict=True):
            for sums, g in zip(total, squared_gradients(x, y), strict=True):
                sums += g.numpy()
        for f, sums in zip(self.fisher, total, strict=True):
            f.assign_add(sums / len(images))
        for a, w in zip(self.anchor, variables, strict=True):
            a.assign(w)

    def remember(self) -> None:
        """LwF: keep the network as it is now, to be distilled from while learning the next task."""
        self.old.set_weights(self.network.get_weights())

    def accuracy(self, images: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
        logits = self.network(images, training=False).numpy() + mask
        return float((logits.argmax(axis=1) == labels).mean())


def run(
    config: ContinualConfig,
    data: Mnist,
    *,
    on_progress: Callable[[ContinualProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    keep: Callable[[ContinualResult], None] | None = None,
) -> ContinualResult:
    """Learn the five tasks one after another with `config.method`; fill in the accuracy matrix as it goes.

    `keep(result)` gets the result after each task: what a stopped run keeps.
    """
    config.validate()
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    learner = _Learner(config)
    test_x = data.x_test / np.float32(255)  # training digits stay uint8 until batched
    tests = [np.flatnonzero(np.isin(data.y_test, task)) for task in TASKS]
    result = ContinualResult(config, np.full((len(TASKS), len(TASKS)), np.nan), [], tuple(map(len, tests)))
    steps, start, done = config.steps_per_task * len(TASKS), time.perf_counter(), 0
    every = max(1, config.steps_per_task // CURVE_POINTS)
    empty = (np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.float32), np.zeros(1, np.int32))

    def evaluate(upto: int, *, digits: int | None = None) -> list[float]:
        """Accuracy on each task learnt so far: among its own 2 digits (task scenario) or all digits seen (class)."""
        return [
            learner.accuracy(
                test_x[tests[i][:digits]],
                data.y_test[tests[i][:digits]],
                class_mask(config, i if config.scenario == "task" else upto),
            )
            if i <= upto
            else math.nan
            for i in range(len(TASKS))
        ]

    for task, digits in enumerate(TASKS):
        seen = [d for t in TASKS[: task + 1] for d in t]
        own = np.flatnonzero(np.isin(data.y_train, seen if config.method == "joint" else digits))
        earlier = [d for t in TASKS[:task] for d in t]
        buffer = replay_buffer(data.y_train, earlier, config.buffer_per_class, seed=config.seed)
        replaying = config.method == "replay" and task > 0
        mask = class_mask(config, task)
        # Replayed digits compete within their own task (task scenario) or among all seen (class scenario).
        buffer_masks = (
            np.stack(
                [
                    class_mask(config, next(i for i, t in enumerate(TASKS) if d in t))
                    if config.scenario == "task"
                    else mask
                    for d in data.y_train[buffer]
                ]
            )
            if replaying
            else None
        )
        old_mask = class_mask(config, task - 1) if task > 0 else np.full(NUM_CLASSES, BLOCKED, np.float32)
        for _ in range(config.steps_per_task):
            if should_stop is not None and should_stop():
                result.stopped, result.seconds = True, time.perf_counter() - start
                return result
            batch = rng.choice(own, config.batch_size)
            if replaying:
                picks = rng.integers(len(buffer), size=config.batch_size)
                x_old, y_old, masks = (
                    data.x_train[buffer[picks]] / np.float32(255),
                    data.y_train[buffer[picks]],
                    buffer_masks[picks],
                )
            else:
                (x_old, y_old), masks = empty, np.zeros((1, NUM_CLASSES), np.float32)
            learner.step(
                data.x_train[batch] / np.float32(255),
                data.y_train[batch].astype(np.int32),
                mask,
                x_old,
                y_old.astype(np.int32),
                masks,
                old_mask,
                np.float32(1 - 1 / (task + 1)) if replaying else np.float32(0),  # van de Ven: weight by tasks seen
                np.float32(1.0 if config.method == "lwf" and task > 0 else 0.0),
                np.float32(config.ewc_lambda if config.method == "ewc" else 0.0),
            )
            done += 1
            if done % every == 0:
                result.curves.append((done, evaluate(task, digits=CURVE_DIGITS)))
                if on_progress is not None:
                    seconds = time.perf_counter() - start
                    on_progress(ContinualProgress(task + 1, done, steps, seconds, result))
        result.accuracy[task] = evaluate(task)
        result.seconds = time.perf_counter() - start
        if config.method == "ewc":
            picked = rng.choice(np.flatnonzero(np.isin(data.y_train, digits)), FISHER_DIGITS, replace=False)
            learner.consolidate(data.x_train[picked] / np.float32(255), data.y_train[picked].astype(np.int32), mask)
        if config.method == "lwf":
            learner.remember()
        if keep is not None:
            keep(result)
        if on_progress is not None:
            on_progress(ContinualProgress(task + 1, done, steps, result.seconds, result))
    return result


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
