"""Smaller models, read the way a phone reads them: TensorFlow Lite files (float16, dynamic-range and full-integer
int8) made by TensorFlow's converter and read through LiteRT's interpreter, measured for size, accuracy and speed.
"""

from __future__ import annotations

import gzip
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.i18n import N_, Text
from core.models import model_from_bytes
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES, Mnist
from core.prune import sparsity
from core.runs.child import preload

try:  # LiteRT, the interpreter's new home; TensorFlow's own copy is deprecated but still works
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # pragma: no cover - a platform without LiteRT wheels
    Interpreter = tf.lite.Interpreter


QUANTIZATIONS = {  # name -> what it does, in plain words
    "float32": N_("No quantization: the network as a TensorFlow Lite file, the baseline."),
    "float16": N_("Weights stored as 16-bit floats and computed in 32-bit: half the size."),
    "dynamic": N_("Weights stored as 8-bit integers, activations quantized on the fly: a quarter of the size."),
    "int8": N_(
        "Full integer: weights and activations in 8 bits, their ranges calibrated on training digits. "
        "What phones' and microcontrollers' integer units run."
    ),
}


REPRESENTATIVE_DIGITS = 500  # training digits the int8 converter measures activation ranges on
BATCH = 500  # digits per interpreter call when reading many
LATENCY_REPEATS = 200  # single-digit readings timed per variant
MEMORY_MB = 900.0  # a quantization process: the model, its SavedModel and the converter


def to_tflite(model: keras.Model, *, quantization: str = "float32", representative: np.ndarray | None = None) -> bytes:
    """The model as a TensorFlow Lite flatbuffer, quantized as QUANTIZATIONS names.

    "int8" needs `representative`: (N, 28, 28) float32 digits in [0, 1] to calibrate activation ranges.
    Its input and output stay float32 (quantized on the way in, dequantized on the way out), so any
    interpreter reads it like the others; every operation inside is an int8 one, or conversion fails.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            Text(
                "quantization must be one of {QUANTIZATIONS}; got {quantization!r}",
                QUANTIZATIONS=", ".join(QUANTIZATIONS),
                quantization=quantization,
            )
        )
    if quantization == "int8" and (representative is None or len(representative) == 0):
        raise ValueError(Text("full-integer quantization needs representative digits to calibrate on"))
    with tempfile.TemporaryDirectory(prefix="digitlab-tflite-") as folder:
        # As TFLiteConverter.from_keras_model does for Keras 3, without its printout: a SavedModel of
        # the inference pass (training=False: dropout off, batch norm's running statistics).
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve",
            lambda images: model(images, training=False),
            input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32)],
        )
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
            "model": self.source,
            "format": self.quantization,
            "size (KB)": self.size_bytes / 1024,
            "zipped (KB)": self.zipped_bytes / 1024,
            "test accuracy (%)": 100 * self.accuracy,
            "ms per digit": self.latency_ms,
            "parameters": self.parameters,
            "zero weights (%)": 100 * self.sparsity,
        }


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
        quantization,
        source,
        len(flatbuffer),
        len(gzip.compress(flatbuffer, 9)),
        accuracy,
        latency_ms(lite.predict_proba, images[0]),
        model.count_params(),
        sparsity(model),
        flatbuffer,
    )


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
            on_progress(
                (
                    index / len(names),
                    Text("Converting to {format} and reading the 10,000 test digits…", format=quantization),
                )
            )
        representative = representative_digits(data) if quantization == "int8" else None
        flatbuffer = to_tflite(model, quantization=quantization, representative=representative)
        variants.append(measure(flatbuffer, quantization=quantization, source=source, model=model, data=data))
    return variants


def quantize(
    model_data: bytes, data: Mnist, source: str, names: tuple[str, ...], *, on_progress, should_stop, keep
) -> list[Variant]:
    """quantize_all as a Job task, on a model sent as a .keras file's bytes."""
    return quantize_all(model_from_bytes(model_data), data, source=source, names=names, on_progress=on_progress)


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
