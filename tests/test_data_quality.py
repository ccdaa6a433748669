"""Label errors by confident learning, training on cleaned digits, and the data engine, on real data and models."""

import dataclasses

import numpy as np
import pytest

from core import data_quality
from core.data_engine import MIN_SLICE, PER_AUTHOR, PLANTED, YOU, Slice, planted, turn
from core.models import predict_proba
from core.pictures.preprocess import to_mnist
from core.training.config import TrainConfig
from core.training.loop import train
from harness.symbols import LEFT_LEANING, drawings


def flipped(labels: np.ndarray, probabilities: np.ndarray, count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels with `count` of the confidently read ones changed to another digit, the indices changed)."""
    rng = np.random.default_rng(seed)
    sure = np.flatnonzero((probabilities.argmax(axis=1) == labels) & (probabilities.max(axis=1) > 0.9))
    changed = rng.choice(sure, count, replace=False)
    noisy = labels.copy()
    noisy[changed] = (labels[changed] + rng.integers(1, 10, count)) % 10
    return noisy, changed


@pytest.mark.parametrize("split", ["test", "train"])
def test_labels_flipped_on_purpose_rise_to_the_top(split, mnist):
    _, labels = data_quality.digits(split, mnist)
    probabilities = data_quality.out_of_sample(split)
    noisy, changed = flipped(labels.astype(np.int64), probabilities, 50, seed=3)
    top = data_quality.ranked(noisy, probabilities)[:100]  # 50 planted among the data set's own errors
    assert len(set(changed) & set(top)) >= 48


def test_suspects_rank_every_digit_once_and_refuse_an_unknown_split(mnist):
    ranking = data_quality.suspects("test")
    assert sorted(ranking) == list(range(len(mnist.y_test)))
    probabilities = data_quality.out_of_sample("test")
    top = ranking[:30]  # mostly read as another digit than their label says
    assert np.mean(probabilities[top].argmax(axis=1) != mnist.y_test[top]) > 0.8
    with pytest.raises(ValueError, match="split must be one of train, test"):
        data_quality.suspects("validation")


def test_the_out_of_sample_probabilities_come_from_networks_that_never_saw_the_digits(mnist, default_model):
    train = data_quality.out_of_sample("train")
    assert train.shape == (60_000, 10)
    accuracy = np.mean(train.argmax(axis=1) == mnist.y_train)
    assert 0.985 < accuracy < 0.995  # held-out accuracy, not the ~99.9% of a network on its own training digits
    seen = predict_proba(default_model, mnist.x_train[:2000] / np.float32(255))
    assert np.mean(seen.argmax(axis=1) == mnist.y_train[:2000]) > accuracy


def test_a_log_average_of_one_network_is_that_network():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=20)
    assert np.allclose(data_quality.ensemble(probabilities, probabilities), probabilities, atol=1e-6)
    sure, unsure = np.eye(10)[:1] * 0.98 + 0.002, np.full((1, 10), 0.1)
    assert data_quality.ensemble(sure, unsure).argmax() == 0


def test_cleaning_leaves_out_suspects_and_applies_corrections(mnist):
    indices = np.arange(60_000)
    top = data_quality.suspects("train")[:100]
    kept, labels = data_quality.cleaned(indices, mnist.y_train, drop=100, corrections={5: 3, 7: None})
    assert len(kept) == 60_000 - 100 - (7 not in top)
    assert not set(top) & set(kept.tolist()) and 7 not in kept
    assert labels[np.flatnonzero(kept == 5)[0]] == 3
    untouched = np.isin(kept, [5], invert=True)
    assert np.array_equal(labels[untouched], mnist.y_train[kept[untouched]])


def test_corrections_are_checked_with_plain_messages(mnist):
    assert data_quality.check_corrections({3: 1, 4: None}, mnist, most=10) == {3: 1, 4: None}
    with pytest.raises(ValueError, match="No training digit has the index 60000"):
        data_quality.check_corrections({60_000: 1}, mnist, most=10)
    with pytest.raises(ValueError, match="digit from 0 to 9"):
        data_quality.check_corrections({1: 10}, mnist, most=10)
    with pytest.raises(ValueError, match="At most 1 corrections"):
        data_quality.check_corrections({1: 1, 2: 2}, mnist, most=1)


def test_a_cleaned_run_takes_as_many_steps_as_the_run_on_the_digits_as_they_are(mnist):
    config = TrainConfig(architecture="mlp", dense_units=16, batch_norm=False, epochs=1, train_size=5_000)
    as_is = train(config, mnist, report_every=1)
    cleaned = train(dataclasses.replace(config, drop_suspects=300), mnist, report_every=1, corrections={0: None})
    assert as_is.history["train"][-1][0] == cleaned.history["train"][-1][0]
    assert cleaned.corrected == 1 and cleaned.test_accuracy > 0.5  # chance is 0.1


def canvas_slice(count_per_digit: int, seed: int) -> Slice:
    canvases, names = drawings([str(digit) for digit in range(10)], count_per_digit, seed=seed, style=LEFT_LEANING)
    return Slice.of(np.stack([to_mnist(canvas) for canvas in canvases]), [int(name) for name in names])


def test_the_engine_reads_a_style_it_misread_after_tuning_on_other_drawings_of_it(mnist, default_model):
    first, second = canvas_slice(4, seed=21), canvas_slice(4, seed=22)  # different hands' seeds
    offered = Slice.of(np.concatenate([first.images, second.images]), np.concatenate([first.meant, second.meant]))
    before = predict_proba(default_model, mnist.x_test / np.float32(255))
    weights = [w.copy() for w in default_model.get_weights()]
    tuned, result = turn(default_model, offered, mnist, before)
    assert result.yours.read[0] < 0.8 and result.yours.read[1] >= result.yours.read[0] + 0.1
    assert result.test_read[1] > result.test_read[0] - 0.005
    assert isinstance(tuned, bytes) and result.tuned_on == 40 and result.held_out == 40
    assert all(np.array_equal(a, b) for a, b in zip(weights, default_model.get_weights(), strict=True))


def test_a_poisoned_wall_shows_as_a_loss_on_mnists_own_digits_and_the_defence_flags_it(mnist, default_model):
    honest = canvas_slice(2, seed=23)
    wall = Slice.of(np.concatenate([honest.images, planted(mnist).images]), [*honest.meant, *[7] * PLANTED])
    wall = Slice(wall.images, wall.meant, np.array(["honest"] * len(honest) + ["attacker"] * PLANTED, dtype=object))
    before = predict_proba(default_model, mnist.x_test / np.float32(255))
    _, trusting = turn(default_model, wall, mnist, before, defend=False)
    attacker = next(entry for entry in trusting.authors if entry.author == "attacker")
    assert attacker.read[1] - attacker.read[0] >= 0.3  # the planted 1s now read as the 7 they were labelled
    assert trusting.worst_digit == 1 and trusting.by_digit[1][1] < trusting.by_digit[0][1]  # MNIST's own 1s lose
    assert trusting.changed[0][:2] == (1, 7)  # and the report names how
    _, defended = turn(default_model, wall, mnist, before)
    attacker = next(entry for entry in defended.authors if entry.author == "attacker")
    assert attacker.over_share == PLANTED - PER_AUTHOR and attacker.flagged >= 0.6 * PER_AUTHOR
    assert defended.by_digit[1][1] > trusting.by_digit[1][1]


def test_a_fair_share_per_author_keeps_the_newest_and_all_of_the_visitors_own():
    authors = ["a"] * 60 + ["b"] * 5 + [YOU] * 70
    offered = Slice(np.zeros((135, 28, 28), np.float32), np.arange(135) % 10, np.array(authors, dtype=object))
    fair = offered.fair(per_author=50)
    assert (fair.authors == "a").sum() == 50 and (fair.authors == "b").sum() == 5 and (fair.authors == YOU).sum() == 70
    assert fair.meant[fair.authors == "a"].tolist() == (np.arange(10, 60) % 10).tolist()  # the newest 50


def test_a_slice_is_split_in_halves_with_every_digit_and_refuses_too_few():
    data_slice = Slice.of(np.zeros((20, 28, 28), np.uint8), np.repeat(np.arange(10), 2))
    tune, held = data_slice.halves(seed=1)
    assert sorted(tune.meant.tolist()) == sorted(held.meant.tolist()) == list(range(10))
    with pytest.raises(ValueError, match=f"at least {MIN_SLICE} drawings"):
        Slice.of(np.zeros((4, 28, 28), np.uint8), [1, 2, 3, 4]).halves()
    with pytest.raises(ValueError, match="one digit and one author each"):
        Slice(np.zeros((3, 28, 28), np.float32), np.zeros(2, np.int64))
