import json

import numpy as np
import pytest

from core.models import DEFAULT_MODEL_PATH, MODEL_CARD_PATH, build_cnn, load_model_card, predict_proba
from core.pictures.data import MNIST_PATH, file_sha256
from core.reading import read_picture
from harness.photos import paste_digit


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
