"""The generators: the flow's path, determinism, shapes and ranges, inpainting that keeps what is known, guidance, and
a tiny flow trained for a few steps here."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core import generation
from core.generation import Generator


@pytest.fixture(scope="module")
def tiny_flow():
    """A small U-Net trained for 60 steps on 512 MNIST digits: enough to test the sampler, not to draw well."""
    from core.pictures.data import load_mnist
    from scripts.train_generator import flow_step

    data = load_mnist()
    pixels = data.x_train[:512].astype(np.float32) / 127.5 - 1.0
    labels = data.y_train[:512].astype(np.int32)
    model, ema = generation.build_unet((8, 16, 16), 32), generation.build_unet((8, 16, 16), 32)
    ema.set_weights(model.get_weights())
    optimizer = keras.optimizers.Adam(2e-3)
    optimizer.build(model.trainable_variables)
    step = flow_step(model, ema, optimizer)
    rng = np.random.default_rng(0)
    losses = []
    for __ in range(60):
        chosen = rng.choice(512, 64, replace=False)
        t = rng.random(64).astype(np.float32)
        z = rng.standard_normal((64, 28, 28)).astype(np.float32)
        classes = np.where(rng.random(64) < 0.1, generation.NULL, labels[chosen]).astype(np.int32)
        losses.append(float(step(pixels[chosen], z, t, generation.time_features(t), classes, np.float32(0.0))))
    return Generator("flow", {"flow": ema}), losses


def test_the_path_runs_from_noise_to_the_picture_with_the_variance_of_the_noise_shrinking():
    rng = np.random.default_rng(1)
    x = np.full((20000, 28, 28), 0.5, np.float32)
    z = rng.standard_normal(x.shape).astype(np.float32)
    for t in (0.0, 0.3, 0.8, 1.0):
        path = generation.noised(x, z, np.full(len(x), t))
        assert abs(path.mean() - t * 0.5) < 0.01
        assert abs(path.std() - (1 - t)) < 0.01


def test_time_features_are_bounded_and_tell_times_apart():
    features = generation.time_features(np.array([0.0, 0.5, 1.0]))
    assert features.shape == (3, generation.TIME_FEATURES) and np.abs(features).max() <= 1.0
    assert np.abs(features[0] - features[1]).max() > 0.5


def test_training_lowers_the_loss(tiny_flow):
    _generator, losses = tiny_flow
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:5])


def test_sample_is_deterministic_for_a_seed_with_the_right_shape_and_range(tiny_flow):
    generator, _losses = tiny_flow
    first = generation.sample(generator, [3, 3, -1], steps=4, seed=7)
    again = generation.sample(generator, [3, 3, -1], steps=4, seed=7)
    other = generation.sample(generator, [3, 3, -1], steps=4, seed=8)
    assert first.shape == (3, 28, 28) and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_guidance_zero_is_the_unconditional_model(tiny_flow):
    generator, _losses = tiny_flow
    guided_off = generation.sample(generator, [4, 7], steps=4, guidance=0.0, seed=3)
    unconditional = generation.sample(generator, [-1, -1], steps=4, guidance=5.0, seed=3)  # no class: w does nothing
    np.testing.assert_allclose(guided_off, unconditional, atol=1e-5)
    conditional = generation.sample(generator, [4, 7], steps=4, guidance=1.0, seed=3)
    assert not np.allclose(conditional, guided_off, atol=1e-3)


def test_complete_keeps_every_known_pixel_exactly(tiny_flow, mnist):
    generator, _losses = tiny_flow
    image = mnist.x_test[0] / np.float32(255)
    known = np.zeros((28, 28), bool)
    known[:, :14] = True  # the left half
    done = generation.complete(generator, image, known, digit=7, count=3, steps=4, seed=1)
    assert done.shape == (3, 28, 28)
    np.testing.assert_array_equal(done[:, known], np.repeat(image[known][None], 3, axis=0))
    assert not np.array_equal(done[0][~known], done[1][~known])  # several ways


def test_bad_input_is_a_sentence_not_a_computation(tiny_flow):
    generator, _losses = tiny_flow
    image = np.zeros((28, 28), np.float32)
    for known in (np.zeros((28, 28), bool), np.ones((28, 28), bool)):
        with pytest.raises(ValueError):
            generation.complete(generator, image, known)
    with pytest.raises(ValueError):
        generation.complete(generator, np.zeros((10, 10)), np.ones((10, 10), bool))
    with pytest.raises(ValueError):
        generation.sample(generator, [12])
    with pytest.raises(ValueError):
        generation.transform(generator, image, 3, strength=1.5)
    with pytest.raises(ValueError):
        generation.transform(generator, np.full((28, 28), np.nan), 3)


def test_transform_at_strength_zero_keeps_the_picture_and_at_one_draws_anew(tiny_flow, mnist):
    generator, _losses = tiny_flow
    image = mnist.x_test[1] / np.float32(255)
    np.testing.assert_array_equal(generation.transform(generator, image, 8, strength=0.0), image)
    turned = generation.transform(generator, image, 8, strength=0.6, steps=5, seed=2)
    assert turned.shape == (28, 28) and 0.0 <= turned.min() and turned.max() <= 1.0


def test_the_trajectory_ends_on_the_sample(tiny_flow):
    generator, _losses = tiny_flow
    frames = generation.trajectory(generator, [5, 1], steps=6, seed=4, every=2)
    assert frames.shape == (4, 2, 28, 28)  # steps 0, 2, 4 and the end
    np.testing.assert_allclose(frames[-1], generation.sample(generator, [5, 1], steps=6, seed=4), atol=1e-6)


def test_a_vae_samples_completes_and_transforms_with_the_same_calls(mnist):
    encoder, decoder = generation.build_vae(latent=4, hidden=32)
    generator = Generator("vae", {"encoder": encoder, "decoder": decoder})
    drawn = generation.sample(generator, [1, -1, 9], seed=0)
    assert drawn.shape == (3, 28, 28) and 0.0 <= drawn.min() and drawn.max() <= 1.0
    np.testing.assert_array_equal(drawn, generation.sample(generator, [1, -1, 9], seed=0))
    image = mnist.x_test[2] / np.float32(255)
    known = np.zeros((28, 28), bool)
    known[:10] = True
    done = generation.complete(generator, image, known, count=2)
    np.testing.assert_array_equal(done[:, known], np.repeat(image[known][None], 2, axis=0))
    assert generation.transform(generator, image, 3).shape == (28, 28)


def test_a_training_digit_is_a_copy_of_itself_and_a_test_digit_is_not(mnist):
    from core.generation.copies import ALPHA, nearest

    training = mnist.x_train[:5000] / np.float32(255)
    found = nearest(np.concatenate([training[[10, 20]], mnist.x_test[:20] / np.float32(255)]), training)
    assert list(found.index[:2]) == [10, 20] and (found.distance[:2] < 0.05).all() and found.copies[:2].all()
    assert (found.ratio[2:] > ALPHA).mean() >= 0.9  # held-out digits: typical, not copied
    assert 0.0 < found.copy_share < 0.3


def test_the_map_rings_a_drawing_where_the_latent_puts_it():
    from core.figures.generation import MARK, map_picture, strip

    grid = np.zeros((5, 5, 28, 28), np.float32)
    picture = map_picture(grid, np.array([2.0, 2.0]))  # the top right corner
    red = np.all(picture == MARK, axis=2)
    rows, columns = np.nonzero(red)
    assert picture.shape == (140, 140, 3) and rows.mean() < 20 and columns.mean() > 120
    assert strip(np.zeros((4, 28, 28))).shape == (84, 4 * 84 + 3 * 4)
