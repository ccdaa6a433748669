"""Every architecture the Train page offers, one entry each: how it is built, how its size is counted before it is
built, how much slower than its arithmetic it runs here, and what it cannot be combined with.

Adding an architecture is one entry here (and its builder in core/models.py, core/architectures.py or
core/privacy.py): `config.validate`, a link's conflicts, the budget and `loop.build` all read this table. No
TensorFlow at import: the builders import it when they build.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.i18n import Text
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES

if TYPE_CHECKING:
    import keras

    from core.training.config import TrainConfig


@dataclass(frozen=True)
class Network:
    """The size of a network, counted from its configuration."""

    parameters: int
    activations: int  # floats one digit's forward pass produces, over all layers
    flops: int  # arithmetic of one digit's forward pass (a multiply-add is 2)


@dataclass(frozen=True)
class Architecture:
    name: str  # as in TrainConfig.architecture and a link's ?architecture=
    build: Callable[[TrainConfig], keras.Model]  # the network a config describes
    count: Callable[[TrainConfig], Network]  # its size, counted as the builder builds it (a test holds them equal)
    slowdown: float = 1.0  # time on 2 cores against its arithmetic's estimate (an RNN's steps run one after another)
    private: bool = True  # whether DP-SGD may train it (per-digit gradients of some layers are far too slow)
    normalises: bool = False  # whether it may use batch normalisation, which mixes a batch's digits: not private
    rule: Callable[[TrainConfig], str | None] | None = None  # a sentence if the config does not fit it, else None


def _mlp(config: TrainConfig) -> keras.Model:
    from core.models import build_mlp

    return build_mlp(hidden_units=(config.dense_units,), dropout=config.dropout, activation=config.activation)


def _cnn(config: TrainConfig) -> keras.Model:
    from core.models import build_cnn

    return build_cnn(
        conv_blocks=config.conv_blocks,
        convs_per_block=2 if config.architecture == "deep_cnn" else 1,
        filters=config.filters,
        dense_units=config.dense_units,
        dropout=config.dropout,
        batch_norm=config.batch_norm,
        activation=config.activation,
        batch_norm_momentum=0.9,  # running statistics that settle within a short run, or a stopped one
    )


def _private_cnn(config: TrainConfig) -> keras.Model:
    from core.privacy import build_private_cnn

    return build_private_cnn(filters=config.filters, dense_units=config.dense_units, activation=config.activation)


def _resnet(config: TrainConfig) -> keras.Model:
    from core.architectures import build_resnet

    return build_resnet(
        stages=config.conv_blocks,
        blocks=config.blocks,
        filters=config.filters,
        dropout=config.dropout,
        batch_norm=config.batch_norm,
    )


def _rnn(config: TrainConfig) -> keras.Model:
    from core.architectures import build_rnn

    return build_rnn(cell=config.cell, units=config.dense_units, layers_count=config.blocks, dropout=config.dropout)


def _transformer(config: TrainConfig) -> keras.Model:
    from core.architectures import build_transformer

    return build_transformer(
        patch_size=config.patch_size,
        width=config.dense_units,
        blocks=config.blocks,
        heads=config.heads,
        dropout=config.dropout,
        stem=config.stem,
    )


def _count_dense(config: TrainConfig) -> Network:
    """core.models' MLP and CNNs: conv blocks (one or two convolutions each, then a max-pool), then a dense layer."""
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


def _count_private_cnn(config: TrainConfig) -> Network:
    """core.privacy's small CNN: 8x8 stride-2 conv to 14x14, pool to 13, 4x4 stride-2 conv to 5x5, pool to 4."""
    first, second, units = config.filters, 2 * config.filters, config.dense_units
    parameters = 64 * first + first + 16 * first * second + second + 16 * second * units + units
    parameters += units * NUM_CLASSES + NUM_CLASSES
    flops = 2 * (64 * first * 14 * 14 + 16 * first * second * 5 * 5 + 16 * second * units + units * NUM_CLASSES)
    activations = 2 * IMAGE_SIZE * IMAGE_SIZE + (14 * 14 + 13 * 13) * first + (25 + 2 * 16) * second
    return Network(parameters, activations + units + NUM_CLASSES, flops)


def _count_resnet(config: TrainConfig) -> Network:
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


def _count_rnn(config: TrainConfig) -> Network:
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


def _count_transformer(config: TrainConfig) -> Network:
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


def _heads_divide_width(config: TrainConfig) -> str | None:
    if config.dense_units % config.heads:
        return Text(
            "The Transformer's width ({dense_units}) must be a multiple of its {heads} heads.",
            dense_units=config.dense_units,
            heads=config.heads,
        )
    return None


# Slowdowns: fitted to a first run of each on 5,000 digits on 2 cores, against the arithmetic's estimate
# (an RNN's 28 steps run one after another; attention's many small operations each cost a kernel launch).
ARCHITECTURES: dict[str, Architecture] = {
    entry.name: entry
    for entry in (
        Architecture("mlp", _mlp, _count_dense),
        Architecture("cnn", _cnn, _count_dense, normalises=True),
        Architecture("deep_cnn", _cnn, _count_dense, normalises=True),
        Architecture("private_cnn", _private_cnn, _count_private_cnn),
        Architecture("resnet", _resnet, _count_resnet, normalises=True),
        Architecture("rnn", _rnn, _count_rnn, slowdown=2.3, private=False),
        Architecture(
            "transformer", _transformer, _count_transformer, slowdown=1.8, private=False, rule=_heads_divide_width
        ),  # fmt: skip
    )
}
