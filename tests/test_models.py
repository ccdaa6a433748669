import io
import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from conftest import paste_digit
from core.data import MNIST_PATH, file_sha256
from core.models import (
    DEFAULT_MODEL_PATH,
    MAX_MODEL_MB,
    MODEL_CARD_PATH,
    build_cnn,
    load_default_model,
    load_model_card,
    load_uploaded_model,
    predict_proba,
    shipped_paths,
)
from core.reading import read_picture


def test_shipped_model_reaches_995_on_the_full_test_set(default_model, mnist):
    probabilities = predict_proba(default_model, mnist.x_test / np.float32(255))
    accuracy = (probabilities.argmax(axis=1) == mnist.y_test).mean()
    assert accuracy >= 0.995
    assert accuracy == pytest.approx(load_model_card()["test_accuracy"], abs=1e-4)  # the card tells the truth


def test_model_card_describes_the_shipped_files():
    card = json.loads(MODEL_CARD_PATH.read_text())
    assert card["data_sha256"] == file_sha256(MNIST_PATH)
    assert {"parameters", "recipe", "training_seconds", "versions"} <= card.keys()
    assert DEFAULT_MODEL_PATH.stat().st_size < 5_000_000  # a few MB at most


def test_predict_proba_rows_are_distributions(default_model, mnist):
    probabilities = predict_proba(default_model, mnist.x_test[:7] / np.float32(255), batch_size=3)
    assert probabilities.shape == (7, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert predict_proba(default_model, np.zeros((0, 28, 28))).shape == (0, 10)


def test_predict_proba_matches_model_predict(default_model, mnist):
    images = mnist.x_test[:16] / np.float32(255)
    expected = default_model.predict(images, verbose=0)
    np.testing.assert_allclose(predict_proba(default_model, images), expected, atol=1e-5)


def test_shipped_model_reads_drawing_sized_digits(default_model, mnist):
    """Digits enlarged onto a canvas, small or large, anywhere, are read like the originals."""
    rng = np.random.default_rng(7)
    indices = rng.choice(len(mnist.x_test), 200, replace=False)
    correct = 0
    for index in indices:
        size = int(rng.integers(60, 260))
        top, left = (int(v) for v in rng.integers(0, 280 - size + 1, 2))
        reading = read_picture(default_model, paste_digit(mnist.x_test[index], size=size, top=top, left=left))
        correct += reading.digit == mnist.y_test[index]
    assert correct / len(indices) >= 0.98


def test_blank_picture_has_no_reading(default_model):
    assert read_picture(default_model, np.zeros((280, 280, 4), np.uint8)) is None


def test_cnn_builder_takes_28x28_and_gives_10_probabilities():
    model = build_cnn(conv_blocks=1, filters=4, dense_units=8)
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)


def keras_file(model: keras.Model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def test_an_uploaded_model_loads_and_reads_like_the_original(mnist):
    data = shipped_paths("Baseline MLP")[0].read_bytes()
    model = load_uploaded_model(data)
    original = load_default_model(shipped_paths("Baseline MLP")[0])
    images = mnist.x_test[:50] / np.float32(255)
    np.testing.assert_allclose(predict_proba(model, images), predict_proba(original, images), atol=1e-6)


def wrong_models() -> dict[str, tuple[keras.Model, str]]:
    channels = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    five = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(5, activation="softmax")])
    logits = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10)])
    code = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Lambda(lambda x: x * 2),
                             layers.Dense(10, activation="softmax")])  # fmt: skip
    return {
        "wants channels": (channels, r"input of shape \(28, 28, 1\)"),
        "five classes": (five, r"output of shape \(5,\)"),
        "logits": (logits, "softmax"),
        "python code": (code, "Python code"),
    }


@pytest.mark.parametrize("name", ["wants channels", "five classes", "logits", "python code"])
def test_a_model_that_does_not_fit_is_refused_with_a_reason(name):
    model, reason = wrong_models()[name]
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(keras_file(model))


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"not a model at all", "not a .keras file"),
        (shipped_paths("Baseline MLP")[1].read_bytes(), "not a .keras file"),  # the model card, a JSON file
        (zip_of({"hello.txt": b"hi"}), "could not load"),
        (zip_of({"config.json": b"{not json", "model.weights.h5": b"\0" * 100}), "could not load"),
        (zip_of({"model.weights.h5": b"\0" * (100 * 2**20)}), "unpacks to far more"),  # a zip bomb
        (b"PK" + b"\0" * int(MAX_MODEL_MB * 2**20), "MB"),
    ],
    ids=["empty", "text", "json", "zip without a model", "damaged config", "zip bomb", "too large"],
)
def test_files_that_are_not_models_are_refused_with_a_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        load_uploaded_model(data)
