"""Why the network decided: attributions over the 28x28 input, and what its layers see.

Every attribution explains the class probability as `predict_proba` gives it, for one image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.models import gradient_batch, graph, output_in, predict_proba
from core.pictures.data import IMAGE_SIZE


def _probability_gradients(model: keras.Model, images: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) images -> ((N,) probabilities of the class, (N, 28, 28) their input gradients)."""
    images = np.asarray(images, dtype=np.float32)
    batch, probabilities, gradients = gradient_batch(model), [], []
    for start in range(0, len(images), batch):
        x = tf.convert_to_tensor(images[start : start + batch])
        with tf.GradientTape() as tape:
            tape.watch(x)
            probability = model(x, training=False)[:, class_index]
        probabilities.append(probability.numpy())
        gradients.append(tape.gradient(probability, x).numpy())
    return np.concatenate(probabilities), np.concatenate(gradients)


def saliency(model: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray:
    """Vanilla gradient: how fast the class probability changes with each pixel. (28, 28), signed."""
    return _probability_gradients(model, image[None], class_index)[1][0]


def smoothgrad(
    model: keras.Model, image: np.ndarray, class_index: int, *, samples: int = 32, noise: float = 0.15, seed: int = 0
) -> np.ndarray:
    """Gradient averaged over noisy copies of the image (noise std as a fraction of the [0, 1] range)."""
    rng = np.random.default_rng(seed)
    noisy = image[None] + rng.normal(0.0, noise, (samples, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    return _probability_gradients(model, noisy, class_index)[1].mean(axis=0)


def integrated_gradients(model: keras.Model, image: np.ndarray, class_index: int, *, steps: int = 64) -> np.ndarray:
    """Integrated gradients from a black image: attributions that sum to p(image) - p(black). (28, 28)."""
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)[:, None, None]  # (S+1, 1, 1)
    path = alphas * image[None]  # (S+1, 28, 28) from black to the image
    gradients = _probability_gradients(model, path, class_index)[1]
    average = (gradients[:-1] + gradients[1:]).mean(axis=0) / 2  # trapezoid rule along the path
    return image * average


def conv_stages(model: keras.Model) -> list[layers.Layer]:
    """For every conv layer, the layer whose output is what it hands on: after its batch norm and activation."""
    stages, model_layers = [], list(model.layers)
    for index, layer in enumerate(model_layers):
        if isinstance(layer, layers.Conv2D):
            stage = layer
            for follower in model_layers[index + 1 :]:
                if not isinstance(follower, layers.BatchNormalization | layers.Activation):
                    break
                stage = follower
            stages.append(stage)
    return stages


def grad_cam(model: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray | None:
    """Grad-CAM on the last conv layer, upsampled to (28, 28) in [0, 1]; None for a model without conv layers, or
    whose only conv layer cuts the digit into a Transformer's patches."""
    stages = conv_stages(model)
    if not stages or any(isinstance(layer, layers.MultiHeadAttention) for layer in model.layers):
        return None
    whole = graph(model)
    inner = keras.Model(whole.inputs, [output_in(model, stages[-1]), whole.outputs[0]])
    with tf.GradientTape() as tape:
        feature_maps, probabilities = inner(tf.constant(image[None], tf.float32), training=False)
        probability = probabilities[:, class_index]
    gradients = tape.gradient(probability, feature_maps)  # (1, h, w, C)
    weights = tf.reduce_mean(gradients, axis=(1, 2))  # (1, C): each channel's importance
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", feature_maps, weights))[..., None]
    cam = tf.image.resize(cam, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear")[0, ..., 0].numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def occlusion(
    model: keras.Model, image: np.ndarray, class_index: int, *, patch: int = 6, stride: int = 2
) -> np.ndarray:
    """Probability drop when a black patch covers each pixel, averaged over the patches covering it. (28, 28)."""
    corners = range(0, IMAGE_SIZE - patch + 1, stride)
    positions = [(top, left) for top in corners for left in corners]
    occluded = np.repeat(image[None], len(positions), axis=0)
    for copy, (top, left) in zip(occluded, positions, strict=True):
        copy[top : top + patch, left : left + patch] = 0.0
    original = predict_proba(model, image[None])[0, class_index]
    drops = original - predict_proba(model, occluded)[:, class_index]
    total, count = np.zeros((IMAGE_SIZE, IMAGE_SIZE)), np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    for drop, (top, left) in zip(drops, positions, strict=True):
        total[top : top + patch, left : left + patch] += drop
        count[top : top + patch, left : left + patch] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)


def first_layer_weights(model: keras.Model) -> np.ndarray | None:
    """The first layer's learned patterns as pictures: (F, k, k) filters of the first 2-D conv layer, or
    (U, 28, 28) for a dense first layer over all 784 pixels; None if the first such layer is neither."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kernel = keras.ops.convert_to_numpy(layer.kernel)  # (k, k, in, F)
            return np.moveaxis(kernel[:, :, 0, :], -1, 0)
        if isinstance(layer, layers.Dense | layers.Conv1D | layers.EinsumDense):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            if kernel.ndim == 2 and kernel.shape[0] == IMAGE_SIZE * IMAGE_SIZE:  # (784, U)
                return kernel.T.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
            return None  # e.g. a Dense or Conv1D over each row: no picture of the whole digit
    return None


def feature_maps(model: keras.Model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(conv layer name, (C, h, w) activations after its batch norm and activation) for every conv layer."""
    stages = conv_stages(model)
    if not stages:
        return []
    inner = keras.Model(graph(model).inputs, [output_in(model, stage) for stage in stages])
    outputs = inner(tf.constant(image[None], tf.float32), training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    return [(conv.name, np.moveaxis(out.numpy()[0], -1, 0)) for conv, out in zip(convs, outputs, strict=True)]


def attention_rollout(model: keras.Model, image: np.ndarray) -> np.ndarray | None:
    """Attention rollout (Abnar & Zuidema 2020) of a Vision Transformer, (28, 28) from 0 (the patch that reaches the
    answer least) to 1 (most): how much each patch reaches it through every block's attention, heads averaged and
    the residual path counted as half. Not specific to a class. None for a model without attention, or whose
    attention does not keep its scores."""
    attentions = [layer for layer in model.layers if isinstance(layer, layers.MultiHeadAttention)]
    outputs = [layer.output for layer in attentions]
    if not attentions or not all(isinstance(out, list | tuple) and len(out) == 2 for out in outputs):
        return None
    inner = keras.Model(model.inputs, [scores for _, scores in outputs])
    all_scores = inner(tf.constant(image[None], tf.float32), training=False)
    all_scores = all_scores if isinstance(all_scores, list | tuple) else [all_scores]
    tokens = all_scores[0].shape[-1]
    rollout = np.eye(tokens)
    for scores in all_scores:  # (1, heads, N, N), each row a query's weights over the patches
        mixed = 0.5 * keras.ops.convert_to_numpy(scores)[0].mean(axis=0) + 0.5 * np.eye(tokens)
        rollout = (mixed / mixed.sum(axis=-1, keepdims=True)) @ rollout
    side = math.isqrt(tokens)
    relevance = rollout.mean(axis=0).reshape(side, side)  # the answer averages every patch's output alike
    picture = np.kron(relevance, np.ones((IMAGE_SIZE // side, IMAGE_SIZE // side)))
    spread = picture.max() - picture.min()  # the residual path keeps patches close: their differences are the map
    return ((picture - picture.min()) / spread if spread > 0 else np.ones_like(picture)).astype(np.float32)


@dataclass(frozen=True)
class Explanation:
    """Every attribution of one class for one image, each (28, 28)."""

    saliency: np.ndarray
    smoothgrad: np.ndarray
    integrated_gradients: np.ndarray
    grad_cam: np.ndarray | None  # None when the model has no conv layer that sees the digit
    occlusion: np.ndarray
    attention: np.ndarray | None = None  # a Transformer's attention rollout; None for other models


def explain(model: keras.Model, image: np.ndarray, class_index: int) -> Explanation:
    """All attributions of `class_index` for `image`."""
    return Explanation(
        saliency=saliency(model, image, class_index),
        smoothgrad=smoothgrad(model, image, class_index),
        integrated_gradients=integrated_gradients(model, image, class_index),
        grad_cam=grad_cam(model, image, class_index),
        occlusion=occlusion(model, image, class_index),
        attention=attention_rollout(model, image),
    )
