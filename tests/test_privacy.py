"""Differential privacy: the accountant against published values, DP-SGD's clipping by hand, a private run's record,
and the membership attack's arithmetic."""

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from core import membership
from core.privacy import PrivateTraining, Spend, build_private_cnn, epsilon, noise_for
from core.training.config import PRESETS, TrainConfig
from core.training.loop import train


def test_epsilon_matches_the_accountants_published_values():
    # dp-accounting's own test: this noise gives exactly (1, 1e-6)-DP for one full-batch step (finer orders than ours)
    assert 1.0 <= epsilon(4.530877117, 1.0, 1, 1e-6) < 1.02
    # Abadi et al.'s MNIST setting as TF Privacy's tutorial runs it: published ε = 3.01 with an older RDP-to-DP
    # conversion; the current one is tighter, and no RDP bound is below the privacy-loss distribution's exact account
    import dp_accounting
    from dp_accounting import pld

    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(256 / 60_000, dp_accounting.GaussianDpEvent(1.1)), 60 * 60_000 // 256
    )
    exact = pld.PLDAccountant().compose(event).get_epsilon(1e-5)
    ours = epsilon(1.1, 256 / 60_000, 60 * 60_000 // 256, 1e-5)
    assert exact <= ours <= 3.01 and ours == pytest.approx(2.60, abs=0.01)
    assert math.isinf(epsilon(0.0, 0.01, 100))
    with pytest.raises(ValueError, match="sampling rate"):
        epsilon(1.0, 1.5, 100)


def test_the_noise_solved_for_spends_at_most_the_epsilon_asked_and_barely_less():
    noise = noise_for(3.0, 512 / 54_000, 12 * 106)
    assert 2.98 <= epsilon(noise, 512 / 54_000, 12 * 106) <= 3.0
    assert epsilon(noise * 0.99, 512 / 54_000, 12 * 106) > 3.0  # less noise would spend more
    with pytest.raises(ValueError, match="above 0"):
        noise_for(0.0, 0.01, 10)


def test_a_private_step_is_the_mean_of_each_digits_clipped_gradient_when_noise_is_zero(mnist):
    keras.utils.set_random_seed(0)
    network = build_private_cnn()
    images = mnist.x_train[:4].astype(np.float32) / 255
    targets = keras.utils.to_categorical(mnist.y_train[:4], 10)
    expected = [np.zeros_like(v.numpy()) for v in network.trainable_variables]
    for image, target in zip(images, targets, strict=True):  # by hand, one digit at a time
        with tf.GradientTape() as tape:
            loss = keras.losses.categorical_crossentropy(target[None], network(image[None], training=True))
        gradients = tape.gradient(loss, network.trainable_variables)
        norm = float(tf.linalg.global_norm(gradients))
        assert norm > 0.01  # so the clip below bites
        for total, gradient in zip(expected, gradients, strict=True):
            total += gradient.numpy() * min(1.0, 0.01 / norm) / 4
    before = [v.numpy().copy() for v in network.trainable_variables]
    model = PrivateTraining(network, noise_multiplier=0.0, clip=0.01, batch_size=4)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="categorical_crossentropy", metrics=["accuracy"])
    model.train_on_batch(images, targets)
    for old, variable, step in zip(before, network.trainable_variables, expected, strict=True):
        np.testing.assert_allclose(old - variable.numpy(), step, atol=1e-6)


def test_a_private_run_records_the_noise_rate_and_steps_it_used_and_refuses_batch_norm(mnist):
    config = dataclasses.replace(PRESETS["private"], epochs=1, train_size=5_000, dp_epsilon=8.0)
    result = train(config, mnist, report_every=1)
    spend = result.privacy
    training_digits = round(5_000 * (1 - config.validation_share))
    steps = math.ceil(training_digits / config.batch_size)
    assert spend.steps == result.history["train"][-1][0] == steps
    assert spend.sample_rate == pytest.approx(config.batch_size / training_digits)
    assert spend.noise_multiplier == noise_for(8.0, spend.sample_rate, steps) and spend.clip == config.dp_clip
    assert spend.epsilon == pytest.approx(epsilon(spend.noise_multiplier, spend.sample_rate, steps), rel=1e-12)
    assert 7.9 < spend.epsilon <= 8.0 and result.test_accuracy > 0.2  # nine steps; chance is 0.1
    with pytest.raises(ValueError, match="Turn batch normalisation off"):
        TrainConfig(dp_epsilon=3.0).validate()
    with pytest.raises(ValueError, match="adversarial"):
        dataclasses.replace(PRESETS["private"], adversarial_eps=0.1).validate()


def test_a_spend_is_what_an_independent_accountant_needs():
    spend = Spend(noise_multiplier=1.0, clip=0.1, sample_rate=0.01, steps=1000)
    assert spend.epsilon == epsilon(1.0, 0.01, 1000, 1e-5)


def test_the_membership_attack_reads_separated_losses_and_not_identical_ones():
    rng = np.random.default_rng(0)
    apart = membership.attack(rng.uniform(0, 1, 300), rng.uniform(2, 3, 300))
    assert apart.auc == 1.0 and apart.advantage == 1.0
    alike = membership.attack(rng.exponential(1, 3000), rng.exponential(1, 3000))
    assert abs(alike.auc - 0.5) < 0.03 and alike.true_positive[-1] == alike.false_positive[-1] == 1.0
    reversed_ = membership.attack(rng.uniform(2, 3, 50), rng.uniform(0, 1, 50))
    assert reversed_.auc == 0.0
