"""Attributions against ground truth: completeness, a hand-derived gradient, and deletion."""

import keras
import numpy as np
import pytest
from keras import layers

from core.explain import (
    feature_maps,
    first_layer_weights,
    grad_cam,
    integrated_gradients,
    occlusion,
    saliency,
    smoothgrad,
)
from core.models import build_mlp, predict_proba


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist.x_test[:12] / np.float32(255), mnist.y_test[:12]


def test_integrated_gradients_are_complete(default_model, digits):
    images, labels = digits
    black = np.zeros((1, 28, 28), np.float32)
    for image, label in zip(images[:6], labels[:6], strict=True):
        attributions = integrated_gradients(default_model, image, int(label), steps=128)
        expected = predict_proba(default_model, image[None])[0, label] - predict_proba(default_model, black)[0, label]
        assert attributions.sum() == pytest.approx(expected, abs=0.05)


def test_saliency_of_a_linear_softmax_model_matches_the_hand_derivation():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    weights, bias = (keras.ops.convert_to_numpy(w) for w in model.layers[-1].weights)  # (784, 10), (10,)
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    logits = image.reshape(-1) @ weights + bias
    p = np.exp(logits - logits.max())
    p /= p.sum()
    c = 4
    expected = p[c] * (weights[:, c] - weights @ p)  # d softmax_c / dx = p_c (w_c - sum_k p_k w_k)
    np.testing.assert_allclose(saliency(model, image, c).reshape(-1), expected, rtol=1e-4, atol=1e-7)


def test_deleting_the_most_attributed_pixels_hurts_more_than_random_ink(default_model, digits):
    """Erase 15 pixels (about a tenth of a digit's ink): the most attributed ones, or random ink."""
    images, labels = digits
    rng = np.random.default_rng(0)
    attributed_drop, random_drop = [], []
    for image, label in zip(images, labels, strict=True):
        label = int(label)
        before = predict_proba(default_model, image[None])[0, label]
        top = np.argsort(-integrated_gradients(default_model, image, label).ravel())[:15]
        ink = np.flatnonzero(image.ravel() > 0.1)
        chosen = rng.choice(ink, min(15, len(ink)), replace=False)
        for pixels, drops in ((top, attributed_drop), (chosen, random_drop)):
            erased = image.copy().ravel()
            erased[pixels] = 0.0
            drops.append(before - predict_proba(default_model, erased.reshape(1, 28, 28))[0, label])
    assert np.mean(attributed_drop) > 3 * np.mean(random_drop)
    assert np.mean(attributed_drop) > 0.2


def test_smoothgrad_is_reproducible_and_concentrates_on_the_digit(default_model, digits):
    image, label = digits[0][0], int(digits[1][0])
    first = smoothgrad(default_model, image, label, seed=1)
    np.testing.assert_array_equal(first, smoothgrad(default_model, image, label, seed=1))
    near_ink = np.abs(first)[image > 0.3].mean()
    assert near_ink > 2 * np.abs(first)[:4, :].mean()  # the top rows of MNIST digits are empty


def test_grad_cam_points_at_the_digit_and_is_absent_for_an_mlp(default_model, digits):
    image, label = digits[0][0], int(digits[1][0])
    cam = grad_cam(default_model, image, label)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    assert cam[image > 0.5].mean() > cam[image == 0].mean()  # more weight on ink than on background
    assert grad_cam(build_mlp(), image, label) is None


def test_occlusion_drops_probability_where_the_digit_is(default_model, digits):
    image, label = digits[0][0], int(digits[1][0])
    drop = occlusion(default_model, image, label)
    assert drop.shape == (28, 28)
    assert drop[image > 0.5].mean() > drop[:3, :3].mean()  # covering a corner changes nothing


def test_inside_views_for_cnn_and_mlp(default_model, digits):
    image = digits[0][0]
    filters = first_layer_weights(default_model)
    assert filters.shape == (32, 3, 3)
    maps = feature_maps(default_model, image)
    assert [m.shape for _, m in maps] == [(32, 28, 28), (64, 14, 14)]
    assert all(m.min() >= 0 for _, m in maps)  # after ReLU
    mlp = build_mlp(hidden_units=(16,))
    assert first_layer_weights(mlp).shape == (16, 28, 28) and feature_maps(mlp, image) == []
