"""Few labels: the encoder's pieces, the pretraining that reads no label, fit_few that reads only the labels it is
given (and learns them even when they are not MNIST's), and the network's choice of digits to ask for."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
import tensorflow as tf

from core.labels import choice, encoder, few
from tests.conftest import ROOT

ENCODER = pytest.mark.skipif(not encoder.ENCODER_PATH.exists(), reason="the encoder is made by scripts/pretrain.py")


def test_the_contrastive_loss_is_the_cross_entropy_of_finding_each_views_partner():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 8)).astype(np.float32), rng.standard_normal((6, 8)).astype(np.float32)
    z = np.concatenate([a, b])
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    similarity = z @ z.T / 0.5
    np.fill_diagonal(similarity, -np.inf)
    partner = np.r_[np.arange(6) + 6, np.arange(6)]
    expected = np.mean(np.log(np.exp(similarity).sum(axis=1)) - similarity[np.arange(12), partner])
    assert float(encoder.contrastive_loss(tf.constant(a), tf.constant(b), 0.5)) == pytest.approx(expected, rel=1e-5)
    same = float(encoder.contrastive_loss(tf.constant(a), tf.constant(a), 0.1))
    assert same < 0.1 * float(encoder.contrastive_loss(tf.constant(a), tf.constant(b), 0.1))  # pairs found


def test_a_view_cuts_out_at_most_one_square_and_keeps_the_range():
    images = tf.ones((64, 28, 28), tf.float32)
    cut = encoder.cut_out(images, tf.constant([1, 2], tf.int32)).numpy()
    black = (cut == 0).sum(axis=(1, 2))
    assert black.max() <= (2 * encoder.MAX_CUT + 1) ** 2 and black.min() == 0 and (black > 0).mean() > 0.5
    views = encoder.view(tf.fill((8, 28, 28), tf.constant(200, tf.uint8)), tf.constant([3, 4], tf.int32)).numpy()
    assert views.shape == (8, 28, 28) and views.min() >= 0 and views.max() <= 1


def test_pretraining_reads_the_training_pictures_and_never_a_label(tmp_path):
    from scripts import pretrain

    assert "y_" not in inspect.getsource(pretrain)  # no label array is named anywhere in the script
    digits = np.load(ROOT / "assets" / "mnist.npz")["x_train"][:512]
    only_pictures = tmp_path / "pictures.npz"
    np.savez(only_pictures, x_train=digits)  # a data file with no label in it at all: the script's path still works
    pictures = pretrain.unlabelled_digits(only_pictures)
    recipe = dict(pretrain.RECIPE, widths=[8, 8, 16], batch_size=64, epochs=2)
    model, state = pretrain.pretrain(pictures, tmp_path / "run", recipe, max_steps=3)
    assert model.output_shape == (None, encoder.FEATURES) and state["epochs_done"] == 2 and state["steps"] == 6
    again, resumed = pretrain.pretrain(pictures, tmp_path / "run", dict(recipe, epochs=3), max_steps=3)
    assert resumed["steps"] == 9 and len(resumed["history"]) == 3  # it went on from its checkpoint


def test_the_choice_of_digits_takes_the_most_typical_of_each_cluster():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((5, 16)) * 20
    points = np.concatenate([centre + rng.standard_normal((200, 16)) for centre in centres])
    chosen = choice.typical(points, 5, seed=0)
    assert sorted(chosen // 200) == [0, 1, 2, 3, 4]  # one from each blob
    for position in chosen:  # each near its blob's centre: the most typical, not an outlier
        centre = centres[position // 200]
        distances = np.linalg.norm(points[position // 200 * 200 : position // 200 * 200 + 200] - centre, axis=1)
        assert np.linalg.norm(points[position] - centre) <= np.quantile(distances, 0.25)
    assert len(set(choice.at_random(1000, 20, seed=1))) == 20


@pytest.mark.parametrize(
    ("indices", "labels"),
    [([], []), ([1, 2], [3]), ([60_000], [1]), ([5], [10]), ([-1], [1]), ([0.5], [1]), (list(range(1001)), [0] * 1001)],
)
def test_labels_that_cannot_be_learnt_are_refused_in_words(indices, labels):
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        few.check(indices, labels)


@ENCODER
def test_fit_few_learns_the_labels_it_is_given_and_reads_no_other(mnist):
    chosen = np.concatenate([np.flatnonzero(mnist.y_train == digit)[:10] for digit in range(10)])
    swapped = 9 - mnist.y_train[chosen].astype(np.int64)  # each digit d called 9 - d: not MNIST's labels
    model = few.fit_few(chosen, swapped, method="linear", data=mnist)
    from core.models import model_bytes, model_from_bytes, predict_proba

    read = predict_proba(model_from_bytes(model_bytes(model)), mnist.x_test[:1000] / np.float32(255)).argmax(1)
    assert (read == 9 - mnist.y_test[:1000]).mean() > 0.8  # it reads the test digits the swapped way
    garbage = dataclasses.replace(mnist, y_train=np.random.default_rng(0).integers(0, 10, 60_000).astype(np.uint8))
    again = few.fit_few(chosen, swapped, method="linear", data=garbage)  # every other label replaced
    same = predict_proba(again, mnist.x_test[:1000] / np.float32(255)).argmax(1)
    assert (same == read).all()


def test_the_rooms_label_of_a_digit_is_its_most_voted_and_one_address_counts_a_bounded_number_of_phones():
    from core.labels.votes import Votes

    votes = Votes([11, 22, 33], address_voters=3)
    assert votes.vote("a", "hall", 11, 4) and votes.vote("b", "hall", 11, 4) and votes.vote("c", "home", 11, 9)
    assert votes.vote("a", "hall", 22, 1) and votes.vote("c", "home", 22, 7)  # a tie: the smaller label
    assert not votes.vote("a", "hall", 44, 1) and not votes.vote("a", "hall", 11, 10)  # not a room digit, no label
    assert votes.tally() == {11: (4, 2, 3), 22: (1, 1, 2)}
    assert votes.vote("a", "hall", 11, 9) and votes.tally()[11] == (9, 2, 3)  # a visitor's latest label counts
    assert votes.vote("a", "hall", 11, None) and votes.tally()[11] == (4, 1, 2)  # and may be taken back
    assert votes.vote("d", "hall", 33, 5) and not votes.vote("e", "hall", 33, 5)  # the hall's fourth phone: no
    assert votes.voters() == 4
    votes.clear()
    assert votes.tally() == {} and votes.voters() == 0


def test_propagated_labels_follow_the_data_where_the_nearest_labelled_digit_would_mislead():
    from core.labels.propagate import propagate

    angles = np.linspace(0, np.pi / 2, 100)
    arc = np.stack([np.cos(angles), np.sin(angles), np.zeros(100)], axis=1)
    lifted = arc + [0, 0, 0.3]  # a second arc beside the first, nearer to it at each end than its own far end
    features = np.concatenate([arc, lifted]).astype(np.float32)
    found, certainty = propagate(features, np.array([0, 199]), np.array([3, 8]))  # labelled at opposite ends
    assert (found[:100] == 3).all() and (found[100:] == 8).all()
    assert features[99] @ features[199] > features[99] @ features[0]  # the nearest labelled one is the other's
    assert certainty.min() >= 0 and certainty.max() <= 1 and certainty[0] == certainty[199] == 1
    lonely = np.concatenate([features, [[0, 0, -1]]])  # a point no edge reaches from a labelled one
    assert propagate(lonely, np.array([0, 199]), np.array([3, 8]))[1][-1] < 0.5
