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

from core.pictures.data import IMAGE_SIZE, NUM_CLASSES
from core.robust_training import CHECK_DIGITS
from core.runs.host import HOST
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
# Slower than their arithmetic says, on 2 cores: an RNN's 28 steps run one after another, attention's many small
# operations each cost a kernel launch (a first run of each on 5,000 digits, against the estimate)
ARCHITECTURE_SLOWDOWN = {"rnn": 2.3, "transformer": 1.8}


@dataclass(frozen=True)
class Network:
    """The size of a network, counted from its configuration."""

    parameters: int
    activations: int  # floats one digit's forward pass produces, over all layers
    flops: int  # arithmetic of one digit's forward pass (a multiply-add is 2)


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
            return (
                f"One step of this network would take about {self.step_seconds:.1f} s here, too long to stop it "
                "promptly. Use a smaller batch, fewer filters or fewer blocks."
            )
        if self.memory_mb <= max_mb:
            return None
        return (
            f"This network would need about {self.memory_mb / 1024:.1f} GB of memory to train; this server allows "
            f"{max_mb / 1024:.1f} GB per training. Use a smaller batch, fewer filters or fewer blocks."
        )


def _private_cnn(config: TrainConfig) -> Network:
    """core.privacy's small CNN: 8x8 stride-2 conv to 14x14, pool to 13, 4x4 stride-2 conv to 5x5, pool to 4."""
    first, second, units = config.filters, 2 * config.filters, config.dense_units
    parameters = 64 * first + first + 16 * first * second + second + 16 * second * units + units
    parameters += units * NUM_CLASSES + NUM_CLASSES
    flops = 2 * (64 * first * 14 * 14 + 16 * first * second * 5 * 5 + 16 * second * units + units * NUM_CLASSES)
    activations = 2 * IMAGE_SIZE * IMAGE_SIZE + (14 * 14 + 13 * 13) * first + (25 + 2 * 16) * second
    return Network(parameters, activations + units + NUM_CLASSES, flops)


def _resnet(config: TrainConfig) -> Network:
    """core.architectures' ResNet: a stem, then stages of residual blocks, global average pooling."""
    norm = 4 if config.batch_norm else 1  # per channel: batch norm's four numbers, or a convolution's bias
    size, channels = IMAGE_SIZE, config.filters
    parameters, flops = 9 * channels + norm * channels, 2 * 9 * channels * size * size
    activations = IMAGE_SIZE * IMAGE_SIZE + 3 * channels * size * size
    for stage in range(config.conv_blocks):
        width = config.filters * 2**stage
        for block in range(config.blocks):
            if stage > 0 and block == 0:
                size = math.ceil(size / 2)
            parameters += 9 * channels * width + 9 * width * width + 2 * norm * width
            flops += 2 * 9 * (channels + width) * width * size * size
            if channels != width or (stage > 0 and block == 0):  # the shortcut's 1x1 projection
                parameters += channels * width + norm * width
                flops += 2 * channels * width * size * size
            activations += 9 * width * size * size  # two convs, their norms and activations, the add and its ReLU
            channels = width
    parameters += channels * NUM_CLASSES + NUM_CLASSES
    return Network(parameters, activations + 2 * channels + NUM_CLASSES, flops + 2 * channels * NUM_CLASSES)


def _rnn(config: TrainConfig) -> Network:
    """core.architectures' RNN: stacked LSTM or GRU layers over the 28 rows, the last state to a softmax."""
    units, gates = config.dense_units, 4 if config.cell == "lstm" else 3
    parameters, flops, inputs = 0, 0, IMAGE_SIZE
    for _ in range(config.blocks):
        biases = units if config.cell == "lstm" else 2 * units  # Keras' GRU keeps a second bias (reset_after)
        parameters += gates * (units * (inputs + units) + biases)
        flops += IMAGE_SIZE * 2 * gates * units * (inputs + units)
        inputs = units
    parameters += units * NUM_CLASSES + NUM_CLASSES
    activations = IMAGE_SIZE * IMAGE_SIZE + config.blocks * IMAGE_SIZE * (gates + 2) * units + units + NUM_CLASSES
    return Network(parameters, activations, flops + 2 * units * NUM_CLASSES)


def _transformer(config: TrainConfig) -> Network:
    """core.architectures' Vision Transformer: perhaps a conv stem, patch embedding with positions, pre-norm encoder
    blocks, mean pool."""
    width, patches = config.dense_units, (IMAGE_SIZE // config.patch_size) ** 2
    per_block = (
        2 * 2 * width + (4 * width * width + 4 * width) + (2 * width * width + 2 * width) + (2 * width * width + width)
    )
    channels = config.stem or 1  # what each patch is cut from: the pixels, or the stem's feature maps
    parameters = 10 * config.stem + config.patch_size**2 * channels * width + width + patches * width
    parameters += config.blocks * per_block + 2 * width + width * NUM_CLASSES + NUM_CLASSES
    flops = 2 * IMAGE_SIZE * IMAGE_SIZE * 9 * config.stem + 2 * patches * config.patch_size**2 * channels * width
    flops += config.blocks * (2 * patches * 8 * width * width + 4 * patches * patches * width)
    activations = IMAGE_SIZE * IMAGE_SIZE * (1 + config.stem) + patches * width * (2 + config.blocks * 12)
    activations += config.blocks * 2 * config.heads * patches * patches  # attention scores and weights
    return Network(parameters, activations + width + NUM_CLASSES, flops + 2 * width * NUM_CLASSES)


def network(config: TrainConfig) -> Network:
    """Parameters, activations and arithmetic per digit of the network `config` describes."""
    counted = {"private_cnn": _private_cnn, "resnet": _resnet, "rnn": _rnn, "transformer": _transformer}
    if config.architecture in counted:
        return counted[config.architecture](config)
    normalise = config.batch_norm and config.architecture != "mlp"
    per_layer = 3 if normalise else 2  # outputs of the layer, its batch norm and its activation
    parameters, activations, flops = 0, IMAGE_SIZE * IMAGE_SIZE, 0
    features = IMAGE_SIZE * IMAGE_SIZE
    if config.architecture != "mlp":
        size, channels = IMAGE_SIZE, 1
        for block in range(config.conv_blocks):
            width = config.filters * 2**block
            for _ in range(2 if config.architecture == "deep_cnn" else 1):
                parameters += 9 * channels * width + (4 * width if normalise else width)
                flops += 2 * 9 * channels * width * size * size
                activations += per_layer * size * size * width
                channels = width
            size //= 2
            activations += 2 * size * size * width  # max-pool and dropout
        features = size * size * channels
        activations += IMAGE_SIZE * IMAGE_SIZE  # the reshape to one channel
    units = config.dense_units
    parameters += features * units + (4 * units if normalise else units) + units * NUM_CLASSES + NUM_CLASSES
    flops += 2 * (features * units + units * NUM_CLASSES)
    activations += features + (per_layer + 1) * units + NUM_CLASSES  # flatten, dense, dropout, output
    return Network(parameters, activations, flops)


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
    per_pass *= ARCHITECTURE_SLOWDOWN.get(config.architecture, 1.0)
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
        f"That setup is larger than this server allows a training (memory or time per step); using {changes} instead."
    )


def pace(runs: int, cpus: float) -> float:
    """How much longer a run takes with `runs` going at once (itself included) on `cpus` cores: each keeps about
    CORES_PER_RUN busy, so they slow each other once together they want more cores than there are."""
    return max(1.0, runs * CORES_PER_RUN / cpus)


def epochs_within(config: TrainConfig, seconds: float) -> int:
    """The most epochs of `config` whose estimate fits in `seconds` (at least 1)."""
    per_epoch = (estimate(config).seconds - START_SECONDS) / config.epochs
    return max(1, min(config.epochs, int((seconds - START_SECONDS - 10) // max(per_epoch, 1e-9))))
