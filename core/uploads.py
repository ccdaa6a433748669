"""A visitor's .keras file: inspected before Keras touches it, then loaded and tried in a child process.

A .keras file is a zip of `config.json` (the layers), `metadata.json` and `model.weights.h5`. A
hostile one can declare a layer of a billion units in a 70 KB config, weights that exist only as an
HDF5 fill value, thousands of layers, or members Keras unpacks to disk and leaves there. So:

1. here, without Keras: the archive's members, sizes and checksums, the config's depth, layer
   count and input shape, and every weight's declared shape (h5py reads shapes without data);
2. in a short-lived child process with a memory and time limit and a temporary folder of its own:
   the network the config declares is counted without allocating it (Keras' StatelessScope defers
   every variable), then loaded for real and put through what every page computes;
3. back here, the server loads only the file the child saved again from the checked model.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import h5py
import keras
import numpy as np

from core.attacks import attack_picture, fgsm
from core.explain import explain, feature_maps, first_layer_weights
from core.i18n import Text
from core.models import activations_per_digit, load_default_model, model_bytes, model_from_bytes, predict_proba
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES
from core.runs.child import IsolatedRunError, preload, run_isolated
from core.runs.runtime import out_of_memory

MAX_MODEL_MB = float(os.environ.get("DIGITLAB_MAX_MODEL_MB", "20"))  # largest .keras file a visitor may upload
MAX_UNPACKED_RATIO = 4  # a .keras archive may unpack to 4x its cap; more is a zip bomb
MEMBER_LIMITS = {"config.json": 2**20, "metadata.json": 2**16, "model.weights.h5": None}  # bytes; None: the cap
MAX_DEPTH = 64  # nesting of the config's JSON (a saved CNN's is 9)
MAX_LAYERS = 200  # layers, nested models' included (the default CNN has 26)
MAX_PARAMETERS = 10_000_000  # 40 MB of float32 weights (the default CNN has 0.83 M)
MAX_ACTIVATIONS = 1_000_000  # floats one digit produces over all layers (the default CNN: 0.14 M)
MAX_COST = 8.0  # time per digit, forward or gradient pass, against the default CNN's measured in the same check
COST_DIGITS = 64  # digits each timing runs on
CHECK_MB = 1500.0  # memory the check may use above its process's start
CHECK_SECONDS = 60.0  # time the check may take, the 10,000 test digits included
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadedModel:
    model: keras.Model
    test_probabilities: np.ndarray  # (10000, 10) on MNIST's test digits, computed by the check
    cost: float  # its time per digit against the default CNN's (forward or gradient pass, the larger)


def load_uploaded_model(data: bytes, test_images: np.ndarray) -> UploadedModel:
    """A visitor's .keras file -> a model every page can use, with its test probabilities; ValueError otherwise.

    Every refusal is one plain sentence for the visitor; library details go to the server's log.
    """
    inspect_archive(data)
    try:
        clean, probabilities, cost = run_isolated(_check, data, test_images, memory_mb=CHECK_MB, seconds=CHECK_SECONDS)
    except IsolatedRunError as error:
        raise ValueError(Text("The model was refused: {error}.", error=error)) from None
    model = model_from_bytes(clean)
    predict_proba(model, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.float32))  # trace its graph now
    return UploadedModel(model, probabilities, cost)


def inspect_archive(data: bytes) -> None:
    """Check a .keras file's structure without Keras; ValueError with the reason if it is not a fitting model."""
    if not data:
        raise ValueError(Text("The file is empty."))
    if len(data) > MAX_MODEL_MB * 2**20:
        raise ValueError(
            Text(
                "The file is {value:.1f} MB; models may be up to {MAX_MODEL_MB:g} MB.",
                value=len(data) / 2**20,
                MAX_MODEL_MB=MAX_MODEL_MB,
            )
        )
    if _declared_members(data) > len(MEMBER_LIMITS):  # before zipfile reads a directory of 100,000 entries
        raise ValueError(Text("The archive holds more files than a saved Keras model has."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ValueError(Text("This is not a .keras file. Save your model with model.save('name.keras').")) from None
    names = [member.filename for member in members]
    if len(set(names)) != len(names) or not set(names) <= MEMBER_LIMITS.keys():
        raise ValueError(
            Text(
                "The archive holds files a saved Keras model does not have; only config.json, metadata.json "
                "and model.weights.h5 are allowed."
            )
        )
    if "config.json" not in names or "model.weights.h5" not in names:
        raise ValueError(Text("This is not a saved Keras model: config.json or model.weights.h5 is missing."))
    budget = MAX_UNPACKED_RATIO * MAX_MODEL_MB * 2**20
    if sum(member.file_size for member in members) > budget or any(
        limit is not None and member.file_size > limit
        for member, limit in ((member, MEMBER_LIMITS[member.filename]) for member in members)
    ):
        raise ValueError(Text("The archive unpacks to far more than a model of its size could; it was refused."))
    try:
        config = archive.read("config.json")  # reading to the end checks the CRC
        if "metadata.json" in names:
            archive.read("metadata.json")
        with tempfile.TemporaryDirectory() as folder:
            weights = os.path.join(folder, "model.weights.h5")
            with archive.open("model.weights.h5") as source, open(weights, "wb") as target:
                shutil.copyfileobj(source, target)
            _check_weights(weights, archive.getinfo("model.weights.h5").file_size)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        raise ValueError(Text("The archive is damaged (a member fails its checksum or cannot be unpacked).")) from None
    _check_config(config)


def _declared_members(data: bytes) -> int:
    """Entries the zip's end record declares (0 if it has none), read without parsing the directory."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or end + 22 > len(data):
        return 0
    (entries,) = struct.unpack("<H", data[end + 10 : end + 12])
    return entries  # 0xFFFF for a ZIP64 archive, which no model needs


def _check_weights(path: str, stored_bytes: int) -> None:
    """The weights file's declared arrays: refused if over budget or larger than the file can hold."""
    shapes: list[tuple[tuple[int, ...], np.dtype]] = []

    def visit(name: str, item) -> bool | None:
        if isinstance(item, h5py.Dataset):
            shapes.append((item.shape, item.dtype))
        return True if len(shapes) > 4 * MAX_LAYERS else None  # a True stops the walk

    try:
        with h5py.File(path, "r") as weights:
            weights.visititems(visit)
    except (OSError, ValueError, RuntimeError, KeyError):
        raise ValueError(Text("The model's weights file (model.weights.h5) is damaged or not HDF5.")) from None
    if len(shapes) > 4 * MAX_LAYERS:
        raise ValueError(
            Text("The weights file holds more arrays than a model of {MAX_LAYERS} layers could.", MAX_LAYERS=MAX_LAYERS)
        )
    if any(dtype.kind not in "fiub" for _, dtype in shapes):
        raise ValueError(Text("The weights file holds something other than numbers."))
    parameters = sum(int(np.prod(shape, dtype=np.float64)) for shape, _ in shapes)
    declared_bytes = sum(float(np.prod(shape, dtype=np.float64)) * dtype.itemsize for shape, dtype in shapes)
    if parameters > MAX_PARAMETERS:
        raise ValueError(
            Text(
                "The model has {parameters:,} weights; Digit Lab takes models of up to {MAX_PARAMETERS:,}.",
                parameters=parameters,
                MAX_PARAMETERS=MAX_PARAMETERS,
            )
        )
    if declared_bytes > stored_bytes:  # Keras stores weights uncompressed: they cannot outsize their file
        raise ValueError(Text("The weights file declares far more weights than it stores; it was refused."))


def _check_config(text: bytes) -> None:
    """The layers' JSON: parseable, not too deep, not too many layers, a (28, 28) input."""
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(Text("The model's config.json is damaged or nested too deeply.")) from None
    if not isinstance(config, dict):
        raise ValueError(Text("The model's config.json does not describe a model."))
    layers, stack = 0, [(config, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(Text("The model's config.json is nested far more deeply than a model's."))
        if isinstance(node, dict):
            stack += [(value, depth + 1) for value in node.values()]
            layers += isinstance(node.get("layers"), list) and len(node["layers"])
        elif isinstance(node, list):
            stack += [(value, depth + 1) for value in node]
    if layers > MAX_LAYERS:
        raise ValueError(
            Text(
                "The model has {layers:,} layers; Digit Lab takes models of up to {MAX_LAYERS}.",
                layers=layers,
                MAX_LAYERS=MAX_LAYERS,
            )
        )
    top = config.get("config", {}).get("layers", []) if isinstance(config.get("config"), dict) else []
    shapes = [
        layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
        for layer in top
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer" and isinstance(layer.get("config"), dict)
    ]
    if shapes and any(list(shape or [])[1:] != [IMAGE_SIZE, IMAGE_SIZE] for shape in shapes):
        raise ValueError(
            Text(
                "The model must take one 28×28 image. Start it with keras.Input((28, 28)), adding a Reshape layer "
                "if it needs channels."
            )
        )


def _plain_reason(error: BaseException) -> str:
    """A one-line reason for the visitor for why Keras could not load a file; the details go to the log."""
    text = str(error)
    log.info("uploaded model refused by Keras: %s: %.500s", type(error).__name__, text)
    if "safe_mode" in text or "Lambda" in text:
        return Text("The model contains Python code (a Lambda layer); it cannot be loaded safely.")
    if isinstance(error, RecursionError):
        return Text("The model's layers are nested too deeply to load.")
    unknown = re.search(r"(?:Could not locate class|Unknown layer)[^A-Za-z]*([A-Za-z_][A-Za-z0-9_]{0,40})", text)
    if unknown:
        return Text(
            "The model uses a layer Keras does not know ({group}); use Keras' built-in layers only.",
            group=unknown.group(1),
        )
    return Text("Keras could not rebuild this model from its file. Save it again with model.save('name.keras').")


def _count(model: keras.Model) -> tuple[int, int]:
    """(parameters, floats one digit produces over all layers) of a model whose variables may be deferred."""
    parameters = sum(int(np.prod(variable.shape, dtype=np.float64)) for variable in model.weights)
    return parameters, activations_per_digit(model)


def _passes(model: keras.Model, images: np.ndarray) -> tuple[Callable, Callable]:
    """What pages run on a model: a forward pass and a gradient pass on `images`."""
    labels = np.zeros(len(images), np.int64)
    return lambda: predict_proba(model, images), lambda: fgsm(model, images, labels, 0.1)


def _seconds(run: Callable) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def cost_against_default(model: keras.Model, images: np.ndarray, rounds: int = 5) -> float:
    """The model's time per digit against the default CNN's (the larger of forward and gradient pass).

    Timed in turns, the default CNN then the model, and the median of the turns' ratios: a busy moment slows both
    sides of a turn alike. Timed one after the other, a 5x model measured 9x on a loaded machine and was refused."""
    costs = []
    for theirs, mine in zip(_passes(load_default_model(), images), _passes(model, images), strict=True):
        theirs(), mine()  # trace the graphs
        costs.append(float(np.median([_seconds(mine) / _seconds(theirs) for _ in range(rounds)])))
    return max(costs)


def _check(data: bytes, test_images: np.ndarray) -> tuple[bytes, np.ndarray, float]:
    """In the child: count, load and try the model; (the model saved again, its test probabilities, its cost)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(archive.read("config.json"))
    try:
        with keras.StatelessScope(initialize_variables=False):  # shapes only: nothing is allocated
            skeleton = keras.saving.deserialize_keras_object(config, safe_mode=True)
            if not isinstance(skeleton, keras.Model):
                raise ValueError(Text("The file does not hold a Keras model."))
            parameters, activations = _count(skeleton)
            inputs, outputs = skeleton.inputs, skeleton.outputs
    except Exception as error:  # Keras reports bad configs with many exception types
        raise ValueError(_plain_reason(error)) from None
    keras.backend.clear_session()  # forget the skeleton's deferred variables: they must never be filled
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(Text("The model must take one input (a 28×28 image) and give one output (10 probabilities)."))
    if tuple(inputs[0].shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            Text(
                "The model takes input of shape {tuple}; Digit Lab gives (28, 28) images in [0, 1]. Start the "
                "model with keras.Input((28, 28)), adding a Reshape layer if it needs channels.",
                tuple=tuple(inputs[0].shape[1:]),
            )
        )
    if tuple(outputs[0].shape[1:]) != (NUM_CLASSES,):
        raise ValueError(
            Text("The model gives output of shape {tuple}; it must give 10.", tuple=tuple(outputs[0].shape[1:]))
        )
    if parameters > MAX_PARAMETERS:
        raise ValueError(
            Text(
                "The model's layers declare {parameters:,} weights; Digit Lab takes models of up to "
                "{MAX_PARAMETERS:,}.",
                parameters=parameters,
                MAX_PARAMETERS=MAX_PARAMETERS,
            )
        )
    if activations > MAX_ACTIVATIONS:
        raise ValueError(
            Text(
                "The model computes {activations:,} values per digit; Digit Lab takes models of up to "
                "{MAX_ACTIVATIONS:,} (its default CNN computes about 137,000).",
                activations=activations,
                MAX_ACTIVATIONS=MAX_ACTIVATIONS,
            )
        )
    try:
        model = model_from_bytes(data)  # unpacks into this child's own temporary folder
    except Exception as error:
        if out_of_memory(error):
            raise
        raise ValueError(_plain_reason(error)) from None
    images = test_images / np.float32(255)
    try:
        cost = cost_against_default(model, images[:COST_DIGITS])
    except Exception as error:
        if out_of_memory(error):
            raise
        log.info("uploaded model fails a forward or gradient pass: %s: %.300s", type(error).__name__, error)
        raise ValueError(Text("The model cannot read a batch of digits and give their gradients.")) from None
    if cost > MAX_COST:
        raise ValueError(
            Text(
                "The model takes {cost:.0f}× the default CNN's time per digit; on this shared server Digit Lab "
                "takes models of up to {MAX_COST:g}×. Try fewer or narrower layers.",
                cost=cost,
                MAX_COST=MAX_COST,
            )
        )
    probabilities = predict_proba(model, images)
    if not np.allclose(probabilities.sum(axis=1), 1, atol=1e-3) or probabilities.min() < 0:
        raise ValueError(Text("The model's outputs are not probabilities. End it with a softmax activation."))
    try:  # what the Explain page computes, on one digit
        explain(model, images[0], int(probabilities[0].argmax()))
        feature_maps(model, images[0])
        first_layer_weights(model)
    except Exception as error:
        log.info("uploaded model fails the Explain page: %s: %.300s", type(error).__name__, error)
        raise ValueError(Text("The model reads digits, but the Explain page cannot analyse its layers.")) from None
    try:  # what the Attack page computes, on one digit
        attack_picture(model, images[0], attack="PGD-20", eps=0.1)
    except Exception as error:
        log.info("uploaded model fails the Attack page: %s: %.300s", type(error).__name__, error)
        raise ValueError(Text("The model reads digits, but the Attack page cannot take its gradients.")) from None
    return model_bytes(model), probabilities, cost


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
