"""What a training run costs before it starts: memory and time estimated from its configuration.

The network is counted layer by layer as `core.models` builds it (no TensorFlow needed), and the
counts are turned into megabytes and seconds with rates measured on a 2-core server
(`python -m bench.host --part estimates` compares the estimates with real runs).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from core.i18n import Text
from core.pictures.data import IMAGE_SIZE
from core.robust_training import CHECK_DIGITS
from core.runs.host import HOST
from core.training.architectures import ARCHITECTURES, Network
from core.training.config import CHOICES, TrainConfig
from core.training.loop import ROBUST_TEST_DIGITS

SERVER_MB = 1250.0  # the server after its first visitors and the process runs fork from, PSS (bench/host.py)
# Memory one training may use, estimated: what the host's budget leaves beside the server (core.runs.host).
MAX_TRAIN_MB = float(os.environ.get("DIGITLAB_MAX_TRAIN_MB") or max(0.0, HOST.budget_mb - SERVER_MB))
BASE_MB = 420.0  # a training process before its first batch: forked TensorFlow, the data, the graph
FLOAT_BYTES = 4
TRAINING_COPIES = 4  # per parameter while training: weights, gradients and two optimiser slots (Adam)
ACTIVATION_COPIES = 3.0  # per activation: the forward value kept for the backward pass, its gradient, scratch
# Time, fitted to runs on 2 cores (bench/host.py --part estimates): small convolutions are bound by memory traffic,
# so each value a layer produces costs time as well as each multiply-add.
SECONDS_PER_ACTIVATION = 1.41e-9  # per value one digit's forward pass produces (backward counted as 2 more)
SECONDS_PER_FLOP = 2.04e-12  # per operation of one digit's forward pass
CORES_PER_RUN = 1.25  # cores one run keeps busy: two runs on two cores take 1.25x as long each
STEP_SECONDS = 0.004  # fixed cost of one step: input pipeline, optimiser update, callbacks
START_SECONDS = 1.5  # a training process forking, receiving the data and building its graph
MAX_STEP_SECONDS = 0.5  # one step's estimated time: Stop keeps the model after the step it interrupts (STOP_SECONDS)
DATA_COPIES = 3  # a training subset is held as uint8 about three times (slice, tf.data, shuffle buffer)
PRIVATE_GRADIENT_COPIES = 3  # per parameter and digit of a private step: its gradient, the clipped one, scratch
PRIVATE_SLOWDOWN = 10.0  # a private step against a plain one of the same network (per-digit gradients)


@dataclass(frozen=True)
class Cost:
    network: Network
    memory_mb: float  # peak memory of the training process
    seconds: float  # wall-clock time of the whole run on this server, evaluation included
    step_seconds: float  # one training step alone

    def over_budget(self, *, max_mb: float | None = None) -> str | None:
        """A sentence saying why this run may not start, or None if it fits (`max_mb`: MAX_TRAIN_MB)."""
        max_mb = MAX_TRAIN_MB if max_mb is None else max_mb
        if self.step_seconds > MAX_STEP_SECONDS:
            return Text(
                "One step of this network would take about {step_seconds:.1f} s here, too long to stop it "
                "promptly. Use a smaller batch, fewer filters or fewer blocks.",
                step_seconds=self.step_seconds,
            )
        if self.memory_mb <= max_mb:
            return None
        return Text(
            "This network would need about {value:.1f} GB of memory to train; this server allows "
            "{value2:.1f} GB per training. Use a smaller batch, fewer filters or fewer blocks.",
            value=self.memory_mb / 1024,
            value2=max_mb / 1024,
        )


def network(config: TrainConfig) -> Network:
    """Parameters, activations and arithmetic per digit of the network `config` describes."""
    return ARCHITECTURES[config.architecture].count(config)


def estimate(config: TrainConfig) -> Cost:
    """Memory and time of training `config` on this server."""
    net = network(config)
    training_digits = round(config.train_size * (1 - config.validation_share))
    validation_digits = config.train_size - training_digits
    pixels = IMAGE_SIZE * IMAGE_SIZE
    variable_bytes = (
        net.parameters * FLOAT_BYTES * TRAINING_COPIES
        + config.batch_size * net.activations * FLOAT_BYTES * ACTIVATION_COPIES
        + config.train_size * pixels * DATA_COPIES
        + validation_digits * pixels * FLOAT_BYTES
    )
    if config.dp_epsilon:  # each digit's own gradient, and its clipped copy, for a whole batch at once
        variable_bytes += config.batch_size * net.parameters * FLOAT_BYTES * PRIVATE_GRADIENT_COPIES
    megabytes = BASE_MB + variable_bytes / 2**20
    steps = config.epochs * math.ceil(training_digits / config.batch_size)
    forward_passes = config.epochs * (3 * training_digits + validation_digits) + 10_000  # backward ~ 2 forward
    if config.adversarial_eps:  # each step attacks its batch first (a forward pass, a gradient), each epoch is checked
        forward_passes += config.epochs * (2 * training_digits + 2 * 10 * CHECK_DIGITS) + 2 * 20 * ROBUST_TEST_DIGITS
    per_pass = net.activations * SECONDS_PER_ACTIVATION + net.flops * SECONDS_PER_FLOP
    per_pass *= ARCHITECTURES[config.architecture].slowdown
    if config.dp_epsilon:  # per-digit gradients: a vectorised map over the batch, far slower than one batch's
        forward_passes += config.epochs * training_digits * 3 * (PRIVATE_SLOWDOWN - 1)
    seconds = START_SECONDS + steps * STEP_SECONDS + forward_passes * per_pass
    attacks = 2 if config.adversarial_eps else 0  # an attacked step first takes a forward and a gradient pass
    slowdown = PRIVATE_SLOWDOWN if config.dp_epsilon else 1
    step_seconds = STEP_SECONDS + config.batch_size * (3 * slowdown + attacks) * per_pass
    return Cost(net, megabytes, seconds, step_seconds)


# What to shrink, in order, to bring a run within the budget: the cheapest changes to the result first.
_SHRINK_ORDER = ("batch_size", "filters", "conv_blocks", "dense_units")


def fit_to_budget(config: TrainConfig, *, max_mb: float | None = None) -> tuple[TrainConfig, str | None]:
    """`config`, or the nearest smaller one within the budget (memory, time per step), with a notice of the change."""
    fitted = config
    for name in _SHRINK_ORDER:
        smaller = [choice for choice in CHOICES[name] if choice < getattr(fitted, name)]
        while estimate(fitted).over_budget(max_mb=max_mb) and smaller:
            fitted = dataclasses.replace(fitted, **{name: smaller.pop()})
    if fitted == config:
        return config, None
    changes = ", ".join(
        f"{name.replace('_', ' ')} {getattr(fitted, name)}"
        for name in _SHRINK_ORDER
        if getattr(fitted, name) != getattr(config, name)
    )
    return fitted, (
        Text(
            "That setup is larger than this server allows a training (memory or time per step); using "
            "{changes} instead.",
            changes=changes,
        )
    )


def pace(runs: int, cpus: float) -> float:
    """How much longer a run takes with `runs` going at once (itself included) on `cpus` cores: each keeps about
    CORES_PER_RUN busy, so they slow each other once together they want more cores than there are."""
    return max(1.0, runs * CORES_PER_RUN / cpus)


def epochs_within(config: TrainConfig, seconds: float) -> int:
    """The most epochs of `config` whose estimate fits in `seconds` (at least 1)."""
    per_epoch = (estimate(config).seconds - START_SECONDS) / config.epochs
    return max(1, min(config.epochs, int((seconds - START_SECONDS - 10) // max(per_epoch, 1e-9))))
