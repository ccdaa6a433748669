"""Attacks against the real default model and against a linear model whose gradient is derived by hand."""

import keras
import numpy as np
import pytest
from keras import layers

from core.attacks import attack_picture, fgsm, pgd, robustness_curve, robustness_curves, smallest_flip
from core.models import build_cnn, logits, model_bytes, model_from_bytes, predict_proba
from core.pictures.data import Mnist
from core.robust_training import RobustCheck
from core.training.config import TrainConfig
from core.training.loop import train


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist.x_test[:300] / np.float32(255), mnist.y_test[:300]


def accuracy(model, images, labels):
    return float((predict_proba(model, images).argmax(axis=1) == labels).mean())


@pytest.mark.parametrize("attack", ["fgsm", "pgd", "targeted", "per-picture"])
def test_attacks_stay_within_eps_and_within_the_pixel_range(default_model, digits, attack):
    images, labels = digits[0][:40], digits[1][:40]
    eps = 0.15
    if attack == "fgsm":
        adversarial = fgsm(default_model, images, labels, eps)
    elif attack == "pgd":
        adversarial = pgd(default_model, images, labels, eps, steps=5)
    elif attack == "targeted":
        adversarial = pgd(default_model, images, labels, eps, steps=5, target=3)
    else:
        eps = np.linspace(0.0, 0.3, len(images), dtype=np.float32)
        adversarial = pgd(default_model, images, labels, eps, steps=5)
    change = np.abs(adversarial - images).reshape(len(images), -1).max(axis=1)
    assert (change <= np.broadcast_to(eps, change.shape) + 1e-6).all()
    assert adversarial.min() >= 0 and adversarial.max() <= 1
    assert adversarial.dtype == np.float32 and adversarial.shape == images.shape


def test_fgsm_on_a_linear_model_matches_the_hand_derived_gradient():
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    weights, bias = (keras.ops.convert_to_numpy(w) for w in model.layers[-1].weights)  # (784, 10), (10,)
    images = np.random.default_rng(1).random((5, 28, 28), dtype=np.float32) * 0.6 + 0.2  # away from 0 and 1
    labels = np.array([0, 3, 5, 7, 9])
    scores = images.reshape(5, -1) @ weights + bias
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gradient = (p - np.eye(10)[labels]) @ weights.T  # d cross-entropy / d pixels, (5, 784)
    expected = np.clip(images + 0.1 * np.sign(gradient).reshape(5, 28, 28), 0, 1)
    np.testing.assert_allclose(fgsm(model, images, labels, 0.1), expected, atol=1e-6)
    towards_two = np.clip(images - 0.1 * np.sign((p - np.eye(10)[2]) @ weights.T).reshape(5, 28, 28), 0, 1)
    np.testing.assert_allclose(fgsm(model, images, labels, 0.1, target=2), towards_two, atol=1e-6)


def test_logits_give_back_the_probabilities(default_model, digits):
    images = digits[0][:8]
    np.testing.assert_allclose(
        keras.ops.softmax(logits(default_model)(images)), predict_proba(default_model, images), atol=1e-5
    )
    separate = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10), layers.Softmax()])
    np.testing.assert_allclose(keras.ops.softmax(logits(separate)(images)), separate(images), atol=1e-6)


def test_pgd_is_stronger_than_fgsm_on_the_default_model(default_model, digits):
    images, labels = digits
    clean = accuracy(default_model, images, labels)
    after_fgsm = accuracy(default_model, fgsm(default_model, images, labels, 0.1), labels)
    after_pgd = accuracy(default_model, pgd(default_model, images, labels, 0.1, steps=20), labels)
    assert clean > 0.98
    assert after_pgd <= after_fgsm < clean
    assert after_pgd < 0.4  # undefended networks fall to about a tenth at ε = 0.1


def test_a_saturated_softmax_does_not_hide_the_gradient(default_model, digits):
    """A softmax one-hot to float32's precision has no gradient left; the attacks work on its scores in float64."""
    images, labels = digits[0][:60], digits[1][:60]
    confident = model_from_bytes(model_bytes(default_model))
    last = confident.layers[-1]
    last.set_weights([40 * w for w in last.get_weights()])  # the same decisions, far more sure of them
    assert (predict_proba(confident, images).max(axis=1) >= 1 - 1e-7).mean() > 0.9  # one in float32, or one step below
    fooled = {
        name: 1 - accuracy(model, pgd(model, images, labels, 0.1, steps=10), labels)
        for name, model in (("original", default_model), ("confident", confident))
    }
    assert fooled["confident"] >= 0.8 * fooled["original"] > 0.5


def test_targeted_pgd_makes_the_default_model_read_the_target(default_model, digits):
    images, labels = digits[0][:100], digits[1][:100]
    targets = (labels + 1) % 10
    adversarial = pgd(default_model, images, labels, 0.2, steps=20, target=targets)
    assert (predict_proba(default_model, adversarial).argmax(axis=1) == targets).mean() > 0.8


def test_the_smallest_flip_fools_the_network_within_its_eps(default_model, digits):
    image = digits[0][0]
    reading = int(predict_proba(default_model, image[None])[0].argmax())
    flip = smallest_flip(default_model, image)
    assert 0 < flip.eps < 0.2 and round(flip.eps / 0.01, 6).is_integer()  # on the slider's steps
    assert flip.probabilities.argmax() != reading
    assert np.abs(flip.image - image).max() <= flip.eps + 1e-6
    assert predict_proba(default_model, flip.image[None])[0].argmax() == flip.probabilities.argmax()
    towards = smallest_flip(default_model, image, target=(reading + 5) % 10)
    assert towards.probabilities.argmax() == (reading + 5) % 10
    again = attack_picture(default_model, image, attack="PGD-20", eps=flip.eps)  # what the Attack page shows next
    np.testing.assert_allclose(again.adversarial, flip.image, atol=1e-5)
    assert again.fooled
    assert smallest_flip(default_model, image, ceiling=0.002, resolution=0.001) is None  # half a grey level
    with pytest.raises(ValueError, match="already reads"):
        smallest_flip(default_model, image, target=reading)


def test_an_attacked_picture_knows_whether_it_fooled(default_model, digits):
    image = digits[0][1]
    gentle = attack_picture(default_model, image, attack="FGSM", eps=0.0)
    assert not gentle.fooled and np.array_equal(gentle.adversarial, image)
    strong = attack_picture(default_model, image, attack="PGD-20", eps=0.3)
    assert strong.fooled and np.abs(strong.change).max() <= 0.3 + 1e-6


def test_robustness_curves_start_at_the_clean_accuracy_and_report_progress(default_model, digits):
    images, labels = digits[0][:100], digits[1][:100]
    assert robustness_curve(default_model, images, labels, [0.0], None)[0] == accuracy(default_model, images, labels)
    reports = []
    curves = robustness_curves(default_model, images, labels, on_progress=reports.append)
    assert set(curves) == {"FGSM", "PGD-10"}
    assert curves["PGD-10"][0] == curves["FGSM"][0] == accuracy(default_model, images, labels)
    assert curves["PGD-10"][-1] <= curves["FGSM"][-1] and curves["PGD-10"][-1] < 0.1
    assert reports == sorted(reports) and reports[-1] == pytest.approx(1.0)
    assert (np.diff(curves["PGD-10"]) <= 0).all()  # a digit fooled at one ε is fooled at every larger one
    direct = accuracy(default_model, pgd(default_model, images, labels, 0.1, steps=10), labels)
    assert curves["PGD-10"][2] <= direct  # ε = 0.1: at least as strong as attacking every digit at 0.1 alone
    with pytest.raises(ValueError, match="increasing"):
        robustness_curve(default_model, images, labels, [0.1, 0.05], fgsm)


def test_the_robust_check_keeps_the_most_robust_epoch(mnist):
    keras.utils.set_random_seed(0)
    network = build_cnn(conv_blocks=1, convs_per_block=1, filters=4, dense_units=16)
    images, labels = mnist.x_test[:200] / np.float32(255), mnist.y_test[:200]
    network.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    network.fit(images, labels, epochs=3, verbose=0)
    history = {}
    check = RobustCheck(network, images, labels, 0.05, history)
    check.on_epoch_end(0)
    good = [w.copy() for w in network.get_weights()]
    network.set_weights([np.zeros_like(w) for w in good])  # an epoch that "collapsed"
    check.on_epoch_end(1)
    assert history["robust"][1][2] < history["robust"][0][2]
    check.on_train_end()
    for restored, kept in zip(network.get_weights(), good, strict=True):
        np.testing.assert_array_equal(restored, kept)


def test_adversarial_training_beats_plain_training_under_attack(mnist):
    small = Mnist(mnist.x_train[:6000], mnist.y_train[:6000], mnist.x_test[:1000], mnist.y_test[:1000])
    plain = TrainConfig(architecture="mlp", dense_units=64, epochs=2, train_size=5_000, batch_size=64, seed=1)
    robust = TrainConfig(**{**plain.__dict__, "adversarial_eps": 0.1})
    images, labels = small.x_test[:500] / np.float32(255), small.y_test[:500]
    trained = {config: train(config, small) for config in (plain, robust)}
    attacked = {
        config: accuracy(result.model, pgd(result.model, images, labels, 0.1, steps=10), labels)
        for config, result in trained.items()
    }
    assert attacked[robust] > attacked[plain] + 0.2
    assert len(trained[robust].history["robust"]) == 2 and "robust" not in trained[plain].history  # once an epoch
    assert trained[robust].robust_accuracy > attacked[plain] and trained[plain].robust_accuracy is None
    assert trained[robust].test_accuracy > 0.8
