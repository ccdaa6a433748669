"""Network architectures, the shipped default model, and the fast prediction path."""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import core.architectures  # noqa: F401  (registers its layers: a saved network that uses them loads anywhere)
from core.i18n import N_, Text
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, NUM_CLASSES
from core.runs.child import SHORT_LIVED, preload

# The models that ship in assets/, by the name the sidebar shows: file stem of the .keras file
# and of its model card (.json). The first is the default.
ROBUST_MODEL = N_("Robust CNN, ε 0.3")  # trained on attacks at ε = 0.3 (scripts/train_robust.py)
SHIPPED_MODELS = {N_("Default CNN"): "default_model", N_("Baseline MLP"): "baseline_mlp", ROBUST_MODEL: "robust_model"}
DEFAULT_MODEL_PATH = ASSETS_DIR / "default_model.keras"
MODEL_CARD_PATH = ASSETS_DIR / "default_model.json"


def build_cnn(
    *,
    conv_blocks: int = 2,
    convs_per_block: int = 2,
    filters: int = 32,
    dense_units: int = 128,
    dropout: float = 0.25,
    batch_norm: bool = True,
    batch_norm_momentum: float = 0.99,
    activation: str = "relu",
    name: str = "cnn",
) -> keras.Model:
    """VGG-style CNN: each block is 3x3 convolutions and a 2x2 max-pool, filters doubling per block."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")  # (B, 28, 28) in [0, 1]
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    for block in range(conv_blocks):
        width = filters * 2**block
        for conv in range(convs_per_block):
            # Batch norm makes the conv bias redundant.
            x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm, name=f"conv{block + 1}_{conv + 1}")(x)
            if batch_norm:
                x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
            x = layers.Activation(activation)(x)
        x = layers.MaxPooling2D(2)(x)  # (B, 28 / 2^(block+1), ..., width)
        x = layers.Dropout(dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=not batch_norm)(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
    x = layers.Activation(activation)(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_mlp(
    *, hidden_units: tuple[int, ...] = (128,), dropout: float = 0.1, activation: str = "relu", name: str = "mlp"
) -> keras.Model:
    """Multi-layer perceptron on the flattened 784 pixels: no notion of neighbouring pixels."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE), name="image")  # (B, 28, 28) in [0, 1]
    x = layers.Flatten()(inputs)  # (B, 784)
    for index, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"dense{index + 1}")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_model(architecture: dict, *, name: str) -> keras.Model:
    """Build from a recipe's architecture: {"kind": "cnn" | "mlp", **that builder's keywords}."""
    options = dict(architecture)
    builders = {"cnn": build_cnn, "mlp": build_mlp}
    kind = options.pop("kind", "cnn")
    if kind not in builders:
        raise ValueError(
            Text("unknown architecture kind {kind!r}; choose one of {builders}", kind=kind, builders=sorted(builders))
        )
    return builders[kind](**options, name=name)


def graph(model: keras.Model) -> keras.Model:
    """The functional graph of a model (a Sequential keeps its own in `_functional`)."""
    return getattr(model, "_functional", None) or model


def _node_in(model: keras.Model, layer: layers.Layer):
    for nodes in getattr(graph(model), "_nodes_by_depth", {}).values():
        for node in nodes:
            if node.operation is layer:
                return node
    return None


def output_in(model: keras.Model, layer: layers.Layer):
    """`layer`'s output within `model`'s own graph, to build a model over part of it.

    Not `layer.output`, its first call's: a Sequential rebuilt from a file called each layer in graphs it has
    since discarded, and a model over those reaches no input.
    """
    node = _node_in(model, layer)
    return node.outputs[0] if node is not None else layer.output


def input_in(model: keras.Model, layer: layers.Layer):
    """`layer`'s input within `model`'s own graph (see output_in)."""
    node = _node_in(model, layer)
    return node.input_tensors[0] if node is not None else layer.input


def load_default_model(path: Path = DEFAULT_MODEL_PATH) -> keras.Model:
    """A shipped model (the default unless `path` says otherwise), loaded without running code from the file."""
    return keras.models.load_model(path, compile=False, safe_mode=True)


def model_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a .keras file: for a download, or to hand a model to another process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def model_from_bytes(data: bytes) -> keras.Model:
    """A model from the bytes of a .keras file, loaded without running code from it (safe_mode)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return keras.models.load_model(path, compile=False, safe_mode=True)


def on_model_bytes(function, data: bytes, *args, **kwargs):
    """function(model, *args, **kwargs) on the model a .keras file's bytes hold: how a model travels to a child."""
    return function(model_from_bytes(data), *args, **kwargs)


def on_model_path(function, path: str, *args, **kwargs):
    """function(model, *args, **kwargs) on a shipped model read from its file: how a child gets one."""
    return function(load_default_model(Path(path)), *args, **kwargs)


def load_model_card(path: Path = MODEL_CARD_PATH) -> dict:
    """A shipped model's card: accuracy, recipe, data checksum, versions."""
    return json.loads(Path(path).read_text())


def shipped_paths(label: str) -> tuple[Path, Path]:
    """(model file, model card) of the shipped model the sidebar calls `label`."""
    stem = SHIPPED_MODELS[label]
    return ASSETS_DIR / f"{stem}.keras", ASSETS_DIR / f"{stem}.json"


# Traced graphs are for models that last: TensorFlow keeps part of every traced function after it is gone
# after the function and its model are gone, so the server traces only the shipped models, and a run's short-lived
# process traces whatever it likes (its memory goes with it). Other models run eagerly: a few ms more a call.
_lasting: weakref.WeakSet = weakref.WeakSet()


def kept_for_server(model: keras.Model) -> keras.Model:
    """Mark a model that lives as long as the process (a shipped one): its graphs are traced once and kept."""
    _lasting.add(model)
    return model


def graphs_kept(model: keras.Model) -> bool:
    """Whether `model`'s computations are traced into graphs (see `kept_for_server`)."""
    return model in _lasting or os.environ.get(SHORT_LIVED) == "1"


# One traced graph per lasting model, dropped with the model: entries are derived from the model
# object itself, so a visitor can only ever reach the graphs of models they hold. A graph holds the
# model only weakly, or the model, its key, would never die.
_forward_graphs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (forward, gradient) batch sizes


def _batch_sizes(model: keras.Model) -> tuple[int, int]:
    """(forward, gradient) batch sizes of a live model, worked out once."""
    if model not in _batches:
        _batches[model] = (batch_size(model), batch_size(model, gradients=True))
    return _batches[model]


def gradient_batch(model: keras.Model) -> int:
    """Digits per batch of a gradient pass through `model` (attacks, attributions)."""
    return _batch_sizes(model)[1]


def _forward(model: keras.Model):
    """The model's inference pass: a traced TensorFlow graph (one trace for any batch size) if the model is kept for
    the server."""
    if not graphs_kept(model):
        return lambda images: model(images, training=False)
    if model not in _forward_graphs:
        held = weakref.ref(model)
        _forward_graphs[model] = tf.function(
            lambda images: held()(images, training=False),
            input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32)],
        )
    return _forward_graphs[model]


MAX_BATCH = 500  # digits in one batch, whatever the model
BATCH_MB = 256.0  # memory one batch's activations may take, forward or backward: a heavy model gets smaller batches
GRADIENT_FACTOR = 3  # a gradient pass keeps every activation and its gradient: about 3x a forward pass's memory


def activations_per_digit(model: keras.Model) -> int:
    """Floats one digit produces over all the model's layers, nested models' included (the default CNN: 137,450).

    Counted over the model's own graph, node by node (a shared layer runs once per node): a layer's list of
    nodes would also hold those of every graph it was ever called in (a Sequential rebuilt from its config
    calls each layer again as it adds the next).
    """
    graph = getattr(model, "_functional", None) or model  # a Sequential keeps its graph in a Functional
    nodes = [node for depth in getattr(graph, "_nodes_by_depth", {}).values() for node in depth]
    if not nodes:  # a model without a graph of layers: count each layer's nodes
        nodes = [node for layer in model.layers for node in getattr(layer, "_inbound_nodes", [])]
    total = 0
    for node in nodes:
        inner = getattr(node, "operation", None)
        if isinstance(inner, keras.Model) and inner is not model:
            total += activations_per_digit(inner)
        else:
            total += sum(int(np.prod(output.shape[1:], dtype=np.float64)) for output in node.outputs)
    return max(total, 1)


def batch_size(model: keras.Model, *, gradients: bool = False) -> int:
    """Digits per batch so that one batch's activations stay within BATCH_MB, forward or (`gradients`) backward."""
    per_digit = 4 * activations_per_digit(model) * (GRADIENT_FACTOR if gradients else 1)  # bytes
    return int(np.clip(BATCH_MB * 2**20 // per_digit, 1, MAX_BATCH))


def predict_proba(model: keras.Model, images: np.ndarray, *, batch_size: int | None = None) -> np.ndarray:
    """(N, 28, 28) float32 in [0, 1] -> (N, 10) class probabilities, each row summing to 1.

    `batch_size` defaults to what fits the model's activations in BATCH_MB.
    """
    if not isinstance(model, keras.Model):  # a model read through another runtime: core.quantize.LiteModel
        return model.predict_proba(images)
    batch_size = batch_size or _batch_sizes(model)[0]
    images = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    # A traced graph skips both model.predict's per-call set-up and eager op dispatch:
    # it is the fast path for the live reading (bench/inference.py compares it with model.predict).
    forward = _forward(model)
    batches = [forward(images[start : start + batch_size]).numpy() for start in range(0, len(images), batch_size)]
    return np.concatenate(batches).astype(np.float32) if batches else np.zeros((0, NUM_CLASSES), np.float32)


def update_metrics(model: keras.Model, loss, targets, predicted) -> dict:
    """A custom train_step's ending: the compiled metrics updated with this step's loss and predictions."""
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(targets, predicted)
    return {metric.name: metric.result() for metric in model.metrics}


def logits(model: keras.Model) -> Callable:
    """f(images, training) -> (B, 10) logits of a model that ends in a softmax.

    Gradients of a saturated softmax are zero in float32 (p = 1.0 exactly), which would hide a
    confident network from the attacks ("gradient masking"); the scores before it do not saturate.
    Models whose last layer is neither a softmax Dense nor a softmax layer fall back to log p.
    """
    last = model.layers[-1]
    inputs = graph(model).inputs
    inputs = inputs[0] if len(inputs) == 1 else inputs  # called with one tensor: a list of one would warn each call
    if getattr(last, "activation", None) is keras.activations.softmax and isinstance(last, layers.Dense):
        features = keras.Model(inputs, input_in(model, last))

        def dense(images, training=False):
            scores = tf.matmul(features(images, training=training), last.kernel)
            return scores + last.bias if last.use_bias else scores

        return dense
    if isinstance(last, layers.Softmax) or (
        isinstance(last, layers.Activation) and last.activation is keras.activations.softmax
    ):
        return keras.Model(inputs, input_in(model, last))
    held = weakref.ref(model)  # callers cache this function per model: it must not keep the model alive
    return lambda images, training=False: tf.math.log(held()(images, training=training) + 1e-30)


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
