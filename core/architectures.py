"""Other architectures than the CNN, the ones the essay's reading list names: a residual network (He et al. 2016), a
recurrent network reading the digit row by row (LSTM or GRU), and a Vision Transformer on patches (Dosovitskiy et
al. 2021). Each takes (B, 28, 28) in [0, 1] and ends in a softmax over the 10 digits, as every model here does.
"""

from __future__ import annotations

import keras
from keras import layers

from core.i18n import Text
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES


def build_resnet(
    *, stages: int = 3, blocks: int = 1, filters: int = 16, dropout: float = 0.2, batch_norm: bool = True
) -> keras.Model:
    """A small ResNet: a 3x3 stem, then `stages` stages of `blocks` residual blocks (two 3x3 convolutions and a
    shortcut), each stage after the first halving the resolution and doubling the filters; global average pooling."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)

    def normalised(y):
        return layers.BatchNormalization(momentum=0.9)(y) if batch_norm else y

    x = layers.Activation("relu")(normalised(layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x)))
    for stage in range(stages):
        width = filters * 2**stage
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            y = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=not batch_norm)(x)
            y = layers.Activation("relu")(normalised(y))
            y = normalised(layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm)(y))
            if stride != 1 or shortcut.shape[-1] != width:  # (B, H/2, W/2, width): a 1x1 projection
                shortcut = normalised(layers.Conv2D(width, 1, strides=stride, use_bias=not batch_norm)(shortcut))
            x = layers.Activation("relu")(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)  # (B, width)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="resnet")


def build_rnn(*, cell: str = "lstm", units: int = 128, layers_count: int = 1, dropout: float = 0.2) -> keras.Model:
    """A recurrent network that reads the digit's 28 rows top to bottom, 28 pixels at a time; its last state decides."""
    kinds = {"lstm": layers.LSTM, "gru": layers.GRU}
    if cell not in kinds:
        raise ValueError(Text("cell must be one of {kinds}; got {cell!r}", kinds=", ".join(kinds), cell=cell))
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")  # (B, 28 rows, 28 pixels)
    x = inputs
    for index in range(layers_count):
        x = kinds[cell](units, return_sequences=index < layers_count - 1, name=f"{cell}{index + 1}")(x)
    x = layers.Dropout(dropout)(x)  # (B, units)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="rnn")


@keras.saving.register_keras_serializable(package="digitlab")
class PatchPositions(layers.Layer):
    """Adds a learnt position embedding to each patch's embedding: (B, N, D) -> (B, N, D)."""

    def build(self, input_shape) -> None:
        self.positions = self.add_weight(
            shape=(input_shape[1], input_shape[2]), initializer=keras.initializers.RandomNormal(stddev=0.02)
        )

    def call(self, patches):
        return patches + self.positions


def build_transformer(
    *, patch_size: int = 4, width: int = 64, blocks: int = 2, heads: int = 4, dropout: float = 0.1, stem: int = 0
) -> keras.Model:
    """A Vision Transformer: the digit cut into patch_size² patches, each embedded in `width` numbers with its
    position, then `blocks` pre-norm encoder blocks (multi-head self-attention and a 2x MLP), averaged over patches.
    `stem` > 0: a 3x3 convolution of that many filters first, so each patch is embedded from edges rather than raw
    pixels (Xiao et al. 2021: early convolutions make a ViT train faster and steadier)."""
    if IMAGE_SIZE % patch_size or width % heads:
        raise ValueError(Text("the patch size must divide 28, and the heads the width"))
    side = IMAGE_SIZE // patch_size
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    if stem:
        x = layers.Conv2D(stem, 3, padding="same", activation="relu", name="stem")(x)  # (B, 28, 28, stem)
    x = layers.Conv2D(width, patch_size, strides=patch_size, name="patches")(x)  # (B, side, side, width)
    x = PatchPositions()(layers.Reshape((side * side, width))(x))  # (B, N, width)
    for index in range(blocks):
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        attention = layers.MultiHeadAttention(heads, width // heads, dropout=dropout, name=f"attention{index + 1}")
        y, _ = attention(y, y, return_attention_scores=True)  # the scores kept in the graph: core.explain reads them
        x = layers.Add()([x, y])
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        y = layers.Dense(2 * width, activation="gelu")(y)
        y = layers.Dropout(dropout)(layers.Dense(width)(y))
        x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization(epsilon=1e-6)(x))  # (B, width)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="transformer")
