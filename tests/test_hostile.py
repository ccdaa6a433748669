"""Uploaded models: hostile files are refused quickly, cheaply and cleanly; fitting ones work on every page."""

import io
import os
import tempfile
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

import hostile
from core import jobs
from core.explain import explain, feature_maps, first_layer_weights
from core.model_upload import MAX_MODEL_MB, load_uploaded_model
from core.models import predict_proba, shipped_paths


@pytest.fixture(scope="module")
def test_images(mnist):
    jobs.prepare()  # the process uploads are checked in is forked from; the app starts it with the first page
    load_uploaded_model(hostile.keras_file(hostile.small_mlp()), mnist.x_test)  # warm: the first fork imports
    return mnist.x_test


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def temporary_entries() -> set[str]:
    """The temporary folder's entries, less the files TensorFlow's autograph writes there whenever any process on
    the machine traces a function (the test's own process, another test run)."""
    return {name for name in os.listdir(tempfile.gettempdir()) if not name.startswith("__autograph_generated_file")}


@pytest.mark.parametrize("name", list(hostile.REFUSED))
def test_a_hostile_file_is_refused_fast_in_one_plain_line_costing_nothing(name, test_images):
    data = hostile.REFUSED[name]()
    before_files, before_memory = temporary_entries(), resident_mb()
    started = time.monotonic()
    with pytest.raises(ValueError) as refusal:
        load_uploaded_model(data, test_images)
    seconds = time.monotonic() - started
    message = str(refusal.value)
    assert seconds <= 2.0, f"{name}: refused after {seconds:.1f} s"
    assert resident_mb() - before_memory <= 200
    assert temporary_entries() <= before_files, "a temporary file was left behind"
    assert "\n" not in message and len(message) < 200 and message.endswith(".")
    for library_text in ("keras.src", "function_node", "OOM", "Traceback", "<class"):
        assert library_text not in message


def test_the_refusals_name_the_reason(test_images):
    reasons = {
        "config bomb": "795,000,010 weights",
        "shape bomb": "159,000,010 weights",
        "disk leak": "more files",
        "bad checksum": "checksum",
        "3,000 layers": "3,004 layers",
        "100,000 x 100,000 input": "28×28",
        "100,000 members": "more files",
    }
    for name, reason in reasons.items():
        with pytest.raises(ValueError, match=reason):
            load_uploaded_model(hostile.REFUSED[name](), test_images)


@pytest.mark.parametrize("name", list(hostile.UNUSUAL))
def test_an_unusual_but_valid_model_works_on_every_page(name, test_images):
    uploaded = load_uploaded_model(hostile.UNUSUAL[name](), test_images)
    image = test_images[0] / np.float32(255)
    assert uploaded.test_probabilities.shape == (10_000, 10)
    np.testing.assert_allclose(predict_proba(uploaded.model, test_images[:8] / np.float32(255)),
                               uploaded.test_probabilities[:8], atol=1e-5)  # fmt: skip
    explanation = explain(uploaded.model, image, 3)
    assert explanation.saliency.shape == (28, 28) and explanation.grad_cam is None  # no 2-D conv to look through
    assert first_layer_weights(uploaded.model) is None and feature_maps(uploaded.model, image) == []


def test_an_uploaded_model_reads_like_the_original(mnist, test_images):
    uploaded = load_uploaded_model(shipped_paths("Baseline MLP")[0].read_bytes(), test_images)
    original = keras.models.load_model(shipped_paths("Baseline MLP")[0], compile=False)
    images = mnist.x_test[:50] / np.float32(255)
    np.testing.assert_allclose(predict_proba(uploaded.model, images), predict_proba(original, images), atol=1e-6)
    accuracy = (uploaded.test_probabilities.argmax(1) == mnist.y_test).mean()
    assert accuracy == pytest.approx(0.9815, abs=0.002)  # the baseline MLP's card


def wrong_models() -> dict[str, tuple[keras.Model, str]]:
    channels = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    five = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(5, activation="softmax")])
    logits = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10)])
    code = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Lambda(lambda x: x * 2),
                             layers.Dense(10, activation="softmax")])  # fmt: skip
    wide = keras.Sequential([keras.Input((28, 28)), layers.Reshape((28, 28, 1)), layers.Conv2D(1024, 3),
                             layers.GlobalMaxPooling2D(), layers.Dense(10, activation="softmax")])  # fmt: skip
    return {
        "wants channels": (channels, "28×28 image"),
        "five classes": (five, r"output of shape \(5,\)"),
        "logits": (logits, "softmax"),
        "python code": (code, "Python code"),
        "too many activations": (wide, "values per digit"),
    }


@pytest.mark.parametrize("name", list(wrong_models()))
def test_a_model_that_does_not_fit_is_refused_with_a_reason(name, test_images):
    model, reason = wrong_models()[name]
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(hostile.keras_file(model), test_images)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"not a model at all", "not a .keras file"),
        (shipped_paths("Baseline MLP")[1].read_bytes(), "not a .keras file"),  # the model card, a JSON file
        (hostile.archive_of({"hello.txt": b"hi"}), "does not have"),
        (hostile.archive_of({"config.json": b"{not json", "model.weights.h5": b"\0" * 100}), "not HDF5"),
        (hostile.archive_of({"model.weights.h5": b"\0" * (100 * 2**20)}), "missing"),
        (b"PK" + b"\0" * int(MAX_MODEL_MB * 2**20), "MB"),
    ],
    ids=["empty", "text", "json", "zip without a model", "damaged config", "zip bomb", "too large"],
)
def test_files_that_are_not_models_are_refused_with_a_reason(data, reason, test_images):
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(data, test_images)


def test_a_check_that_runs_out_of_memory_or_time_costs_the_server_nothing():
    before = resident_mb()
    with pytest.raises(jobs.IsolatedRunError, match="memory"):
        jobs.run_isolated(np.ones, (4096, 4096, 64), memory_mb=500, seconds=30)  # 8 GB
    with pytest.raises(jobs.IsolatedRunError, match="longer"):
        jobs.run_isolated(time.sleep, 30, memory_mb=100, seconds=1)
    assert resident_mb() - before < 50


def test_a_check_leaves_no_temporary_files_even_when_killed():
    before = temporary_entries()
    with pytest.raises(jobs.IsolatedRunError):
        jobs.run_isolated(_write_then_hang, memory_mb=100, seconds=1)
    assert temporary_entries() <= before


def _write_then_hang() -> None:
    Path(tempfile.mkdtemp(), "unpacked.bin").write_bytes(b"\0" * 2**20)
    time.sleep(30)


def test_hostile_builders_make_what_they_say():
    with zipfile.ZipFile(io.BytesIO(hostile.many_members())) as archive:
        assert len(archive.infolist()) > 100_000
    with zipfile.ZipFile(io.BytesIO(hostile.bad_checksum())) as archive:
        assert archive.testzip() == "model.weights.h5"
