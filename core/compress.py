"""Smaller, faster models and what they cost: TensorFlow Lite quantization and magnitude pruning.

Every variant is measured the way a phone would run it: as a .tflite file through the TFLite
interpreter (LiteRT), on MNIST's 10,000 test digits, never through the float Keras model it came from.
Distillation, the third way to a smaller model, trains a new network and lives in `core.distill`.
"""

from __future__ import annotations

import gzip
import math
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.data import IMAGE_SIZE, NUM_CLASSES, Mnist
from core.models import model_bytes, model_from_bytes, predict_proba
from core.training import training_dataset

try:  # LiteRT, the interpreter's new home; TensorFlow's own copy is deprecated but still works
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # pragma: no cover - a platform without LiteRT wheels
    Interpreter = tf.lite.Interpreter

QUANTIZATIONS = {  # name -> what it does, in plain words
    "float32": "No quantization: the network as a TensorFlow Lite file, the baseline.",
    "float16": "Weights stored as 16-bit floats and computed in 32-bit: half the size.",
    "dynamic": "Weights stored as 8-bit integers, activations quantized on the fly: a quarter of the size.",
    "int8": "Full integer: weights and activations in 8 bits, their ranges calibrated on training digits. "
    "What phones' and microcontrollers' integer units run.",
}
REPRESENTATIVE_DIGITS = 500  # training digits the int8 converter measures activation ranges on
BATCH = 500  # digits per interpreter call when reading many
LATENCY_REPEATS = 200  # single-digit readings timed per variant
MEMORY_MB = 900.0  # a quantization or pruning process: the model, its SavedModel, the converter or the fine-tune


def to_tflite(model: keras.Model, *, quantization: str = "float32", representative: np.ndarray | None = None) -> bytes:
    """The model as a TensorFlow Lite flatbuffer, quantized as QUANTIZATIONS names.

    "int8" needs `representative`: (N, 28, 28) float32 digits in [0, 1] to calibrate activation ranges.
    Its input and output stay float32 (quantized on the way in, dequantized on the way out), so any
    interpreter reads it like the others; every operation inside is an int8 one, or conversion fails.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}; got {quantization!r}")
    if quantization == "int8" and (representative is None or len(representative) == 0):
        raise ValueError("full-integer quantization needs representative digits to calibrate on")
    with tempfile.TemporaryDirectory(prefix="digitlab-tflite-") as folder:
        # As TFLiteConverter.from_keras_model does for Keras 3, without its printout: a SavedModel of
        # the inference pass (training=False: dropout off, batch norm's running statistics).
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", lambda images: model(images, training=False),
                             input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32)])  # fmt: skip
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        if quantization != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            digits = np.asarray(representative, np.float32).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
            converter.representative_dataset = lambda: ([digit] for digit in digits)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter.convert()


class LiteModel:
    """A .tflite file read through the interpreter; `core.models.predict_proba` reads pictures with it.

    It stands in for a Keras model wherever only its answers are needed (Draw, Evaluate, ...); it has
    no gradients, so Explain and Attack cannot look inside it.
    """

    def __init__(self, flatbuffer: bytes, *, parameters: int, threads: int = 1) -> None:
        self.flatbuffer, self.parameters = flatbuffer, parameters
        self._interpreter = Interpreter(model_content=flatbuffer, num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0  # the input size the interpreter's tensors are allocated for
        self._lock = threading.Lock()  # one interpreter answers one call at a time

    def count_params(self) -> int:
        """The parameters of the network it was made from (zeros included)."""
        return self.parameters

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) class probabilities, each row summing to 1."""
        images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
        batches = [self._invoke(images[start : start + BATCH]) for start in range(0, len(images), BATCH)]
        if not batches:
            return np.zeros((0, NUM_CLASSES), np.float32)
        probabilities = np.concatenate(batches).astype(np.float32)
        # An int8 softmax comes back in steps of 1/256: rows sum to 1 within a few steps, so renormalise.
        return probabilities / np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)

    def _invoke(self, images: np.ndarray) -> np.ndarray:
        with self._lock:
            if len(images) != self._batch:
                self._interpreter.resize_tensor_input(self._input, [len(images), IMAGE_SIZE, IMAGE_SIZE])
                self._interpreter.allocate_tensors()
                self._batch = len(images)
            self._interpreter.set_tensor(self._input, images)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()


@dataclass(frozen=True)
class Variant:
    """One way to ship a model, as measured on MNIST's test digits."""

    quantization: str  # one of QUANTIZATIONS
    source: str  # the model it was made from, as the sidebar names it
    size_bytes: int  # the .tflite file
    zipped_bytes: int  # the same, gzipped: what a download costs; zeros from pruning compress away
    accuracy: float  # on the 10,000 test digits, through the interpreter
    latency_ms: float  # one digit through the interpreter, median of LATENCY_REPEATS, one thread
    parameters: int
    sparsity: float  # share of weights that are exactly zero
    flatbuffer: bytes  # the .tflite file itself

    def row(self) -> dict:
        """The variant as a row of the Compress page's table."""
        return {
            "model": self.source, "format": self.quantization, "size (KB)": self.size_bytes / 1024,
            "zipped (KB)": self.zipped_bytes / 1024,
            "test accuracy (%)": 100 * self.accuracy, "ms per digit": self.latency_ms, "parameters": self.parameters,
            "zero weights (%)": 100 * self.sparsity,
        }  # fmt: skip


def latency_ms(predict: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, repeats: int = LATENCY_REPEATS):
    """Median milliseconds of predict(one digit), after one warm-up call."""
    one = np.asarray(image, np.float32).reshape(1, IMAGE_SIZE, IMAGE_SIZE)
    predict(one)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(one)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def measure(flatbuffer: bytes, *, quantization: str, source: str, model: keras.Model, data: Mnist) -> Variant:
    """A .tflite file made from `model`, read through the interpreter: accuracy, size and speed."""
    lite = LiteModel(flatbuffer, parameters=model.count_params())
    images = data.x_test / np.float32(255)
    accuracy = float((lite.predict_proba(images).argmax(axis=1) == data.y_test).mean())
    return Variant(
        quantization, source, len(flatbuffer), len(gzip.compress(flatbuffer, 9)), accuracy,
        latency_ms(lite.predict_proba, images[0]), model.count_params(), sparsity(model), flatbuffer,
    )  # fmt: skip


def representative_digits(data: Mnist, count: int = REPRESENTATIVE_DIGITS) -> np.ndarray:
    """(count, 28, 28) float32 training digits, the same every time, for the int8 converter."""
    picked = np.random.default_rng(0).choice(len(data.x_train), count, replace=False)
    return data.x_train[np.sort(picked)] / np.float32(255)


def quantize_all(
    model: keras.Model, data: Mnist, *, source: str, names=tuple(QUANTIZATIONS), on_progress=None
) -> list[Variant]:
    """Every quantization of `model` in `names`, converted and measured; on_progress((share done, what))."""
    variants = []
    for index, quantization in enumerate(names):
        if on_progress is not None:
            on_progress((index / len(names), f"Converting to {quantization} and reading the 10,000 test digits…"))
        representative = representative_digits(data) if quantization == "int8" else None
        flatbuffer = to_tflite(model, quantization=quantization, representative=representative)
        variants.append(measure(flatbuffer, quantization=quantization, source=source, model=model, data=data))
    return variants


def quantize(
    model_data: bytes, data: Mnist, source: str, names: tuple[str, ...], *, on_progress, should_stop, keep
) -> list[Variant]:
    """quantize_all as a Job task, on a model sent as a .keras file's bytes."""
    return quantize_all(model_from_bytes(model_data), data, source=source, names=names, on_progress=on_progress)


# Pruning ------------------------------------------------------------------------------------------------------


PRUNABLE = (layers.Dense, layers.Conv2D)  # their kernels hold nearly all the weights; biases and norms stay
SMALL_LAYER = 0.01  # layers with less than this share of the kernel weights are not pruned
MAX_LAYER_SPARSITY = 0.995  # a pruned layer keeps at least this share of its weights
SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)  # the Compress page's choices


def magnitude_masks(model: keras.Model, sparsity: float) -> list[tuple[keras.Variable, np.ndarray]]:
    """(kernel, mask) for the Dense and Conv2D kernels: 0 for the smallest |weights|, 1 for the rest.

    Every pruned layer loses the same share of its weights (as TensorFlow Model Optimization's
    prune_low_magnitude does), so no layer is emptied by another's many small weights. Layers holding
    under SMALL_LAYER of all kernel weights (a first convolution, a last layer) stay whole: they cost
    little size and each of their few weights matters; the others lose a little more so that
    `sparsity` is the share over all kernels.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be at least 0 and below 1; got {sparsity}")
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, PRUNABLE)]
    total = sum(int(np.prod(kernel.shape)) for kernel in kernels)
    pruned = [kernel for kernel in kernels if np.prod(kernel.shape) >= SMALL_LAYER * total]
    share = min(sparsity * total / sum(int(np.prod(kernel.shape)) for kernel in pruned), MAX_LAYER_SPARSITY)
    masks = []
    for kernel in pruned:
        weights = np.abs(kernel.numpy()).ravel()
        mask = np.ones(weights.size, np.float32)
        mask[np.argsort(weights, kind="stable")[: round(share * weights.size)]] = 0.0
        masks.append((kernel, mask.reshape(kernel.shape)))
    return masks


def apply_masks(masks: list[tuple[keras.Variable, np.ndarray]]) -> None:
    for kernel, mask in masks:
        kernel.assign(kernel.numpy() * mask)


def sparsity(model: keras.Model) -> float:
    """Share of the Dense and Conv2D kernels' weights that are exactly zero."""
    kernels = [layer.kernel.numpy() for layer in model.layers if isinstance(layer, PRUNABLE)]
    total = sum(kernel.size for kernel in kernels)
    return float(sum(np.count_nonzero(kernel == 0) for kernel in kernels) / max(total, 1))


class MagnitudePruning(keras.callbacks.Callback):
    """Prunes gradually while fine-tuning, then holds the mask (Zhu & Gupta 2017).

    Sparsity rises as s (1 - (1 - t / T)^3) over the first RAMP share of the steps, re-pruned every
    EVERY steps from the weights' current magnitudes; after every step the pruned weights are set back
    to zero, since the optimiser's momentum would otherwise revive them.
    """

    RAMP = 0.5  # share of the steps over which sparsity rises to its target
    EVERY = 10  # steps between re-prunings while it rises

    def __init__(self, target: float, steps: int, on_step: Callable[[int, float], None] | None = None) -> None:
        super().__init__()
        self.target, self.ramp_steps, self.on_step = target, max(1, int(self.RAMP * steps)), on_step
        self.step, self.masks = 0, []

    def current(self) -> float:
        """The sparsity the schedule asks for at this step."""
        done = min(self.step / self.ramp_steps, 1.0)
        return self.target * (1.0 - (1.0 - done) ** 3)

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.step += 1
        if self.step <= self.ramp_steps and (self.step % self.EVERY == 0 or self.step == self.ramp_steps):
            self.masks = magnitude_masks(self.model, self.current())
        apply_masks(self.masks)
        if self.on_step is not None:
            self.on_step(self.step, self.current())


@dataclass(frozen=True)
class Pruned:
    model: bytes  # the pruned network, as a .keras file
    accuracy: float  # on the 10,000 test digits
    sparsity: float  # reached, over the Dense and Conv2D kernels
    seconds: float  # fine-tuning time
    steps: int  # fine-tuning steps done
    stopped: bool


@dataclass(frozen=True)
class PruneProgress:
    step: int
    steps: int
    sparsity: float  # the schedule's, at this step
    seconds: float


PRUNE_STEPS = 300  # fine-tuning steps (batches of 128): ~40 s for the default model on 2 cores
PRUNE_LEARNING_RATE = 3e-4
PRUNE_BATCH = 128
BATCH_NORM_MOMENTUM = 0.9  # while fine-tuning; the shipped models train with 0.99


def prune(
    model_data: bytes, target: float, data: Mnist, *, steps: int = PRUNE_STEPS, seed: int = 0,
    on_progress=None, should_stop=None, keep=None,
) -> Pruned:  # fmt: skip
    """A copy of the model (a .keras file's bytes) pruned to `target` sparsity while fine-tuning on MNIST.

    A Job task: reports PruneProgress, stops at the next step when asked, and returns the pruned model.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"sparsity must be between 0 and 1; got {target}")
    keras.utils.set_random_seed(seed)
    model = model_from_bytes(model_data)
    for layer in model.layers:  # pruning shifts every activation: running statistics must follow within the run
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = BATCH_NORM_MOMENTUM
    model.compile(optimizer=keras.optimizers.Adam(PRUNE_LEARNING_RATE), loss="sparse_categorical_crossentropy")
    started = time.perf_counter()

    def on_step(step: int, current: float) -> None:
        if on_progress is not None and (step % 10 == 0 or step == steps):
            on_progress(PruneProgress(step, steps, current, time.perf_counter() - started))
        if should_stop is not None and should_stop():
            model.stop_training = True

    pruning = MagnitudePruning(target, steps, on_step)
    epochs = math.ceil(steps * PRUNE_BATCH / len(data.x_train))
    batches = training_dataset(data.x_train, data.y_train, batch_size=PRUNE_BATCH, epochs=epochs, seed=seed,
                               augment=False)  # fmt: skip
    model.fit(batches.take(steps), epochs=1, callbacks=[pruning], verbose=0)
    stopped = pruning.step < steps
    apply_masks(magnitude_masks(model, target))  # a stopped run is still pruned to its target
    seconds = time.perf_counter() - started
    accuracy = float((predict_proba(model, data.x_test / np.float32(255)).argmax(axis=1) == data.y_test).mean())
    return Pruned(model_bytes(model), accuracy, sparsity(model), seconds, pruning.step, stopped)


def keras_latency_ms(model: keras.Model, image: np.ndarray) -> float:
    """Median milliseconds of one digit through the Keras model's traced graph, as the app reads drawings."""
    return latency_ms(lambda one: predict_proba(model, one), image)
