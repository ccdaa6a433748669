"""Transfer learning on hand-drawn-looking symbols (harness/symbols.py) and the real shipped networks."""

import numpy as np
import pytest

from core.models import load_default_model, model_from_bytes, predict_proba, shipped_paths
from core.personalise import before_after, personalise
from core.pictures.preprocess import to_mnist
from core.symbols import L2, MAX_EXAMPLES, Examples, check_symbols, compare, fit_head, learn_symbols
from harness.symbols import LOOK_ALIKES, drawings


def pictures(symbols, per_symbol, seed):
    canvases, names = drawings(symbols, per_symbol, seed=seed)
    return np.array([to_mnist(canvas) for canvas in canvases]), names


@pytest.fixture(scope="module")
def eight():
    """5 drawings of each look-alike to learn from, 20 more of each to check."""
    return pictures(LOOK_ALIKES, 5, seed=1), pictures(LOOK_ALIKES, 20, seed=2)


def test_five_drawings_of_eight_look_alike_symbols_are_enough(default_model, eight):
    (images, names), (held_out, truth) = eight
    classifier = learn_symbols(default_model, images, names)
    assert classifier.classes == LOOK_ALIKES  # in the order they were first drawn
    probabilities = classifier.predict_proba(held_out)
    assert probabilities.shape == (len(held_out), 8) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    read = [classifier.classes[i] for i in probabilities.argmax(axis=1)]
    assert np.mean([r == t for r, t in zip(read, truth, strict=True)]) >= 0.9


def test_the_exported_keras_model_reads_like_the_classifier(default_model, eight):
    (images, names), (held_out, _) = eight
    classifier = learn_symbols(default_model, images[:16], names[:16])  # two of each
    exported = model_from_bytes(classifier.to_bytes())
    assert exported.input_shape == (None, 28, 28) and exported.output_shape == (None, 8)
    np.testing.assert_allclose(predict_proba(exported, held_out), classifier.predict_proba(held_out), atol=1e-4)


def test_the_head_reaches_the_optimum_of_its_convex_loss():
    rng = np.random.default_rng(0)
    inputs, labels = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)
    head = fit_head(inputs, labels, 3, steps=2000)
    x = (inputs - head.mean) / head.scale
    p = head.probabilities(inputs).astype(np.float64)
    gradient = x.T @ (p - np.eye(3)[labels]) / len(x) + L2 * head.weights
    assert np.abs(gradient).max() < 1e-4  # stationary: the regularised cross-entropy's unique minimum


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["✓"], "at least 2"),
        ([" ✓ ", "✓"], "same name"),
        ([str(i) for i in range(9)], "at most 8"),
        (["✓", "x" * 40], "24 characters"),
    ],
)
def test_symbol_names_that_will_not_do_say_why(names, message):
    with pytest.raises(ValueError, match=message):
        check_symbols(names)


def test_too_few_drawings_or_one_class_say_what_to_draw(default_model, eight):
    (images, names), _ = eight
    with pytest.raises(ValueError, match="Draw ← at least 2 times"):
        learn_symbols(default_model, images[:10], names[:10])  # one of each, then + and × again
    with pytest.raises(ValueError, match="at least 2 symbols"):
        learn_symbols(default_model, images[names.index("+") :: 8][:3], ["+"] * 3)


def test_examples_count_undo_remove_and_cap():
    examples = Examples()
    with pytest.raises(ValueError, match="Draw the symbol"):
        examples.add("+", None)
    blank = np.zeros((28, 28), np.float32)
    for label in ["+", "×", "+"]:
        examples.add(label, blank)
    assert examples.of("+") == [0, 2] and "× (1/2)" in str(examples.missing(["+", "×"]))
    examples.undo()
    examples.remove(0)
    assert examples.labels == ["×"]
    assert examples.of_symbols(["+"]) == ([], []) and examples.of_symbols(["×"])[1] == ["×"]
    for _ in range(MAX_EXAMPLES):
        examples.add("+", blank)
    with pytest.raises(ValueError, match="plenty"):
        examples.add("+", blank)


def test_frozen_features_beat_raw_pixels_and_scratch_with_few_drawings(default_model):
    images, names = pictures(LOOK_ALIKES, 6, seed=3)
    reports = []
    comparison = compare(default_model, images, names, rounds=2, on_progress=reports.append)
    frozen, raw = comparison.accuracy["frozen features"], comparison.accuracy["raw pixels"]
    assert comparison.shots == (1, 2, 5, 10) and np.isnan(frozen[3])  # 6 drawings leave none to score at 10
    assert frozen[0] > raw[0] and frozen[1] > raw[1]
    assert reports[-1] == pytest.approx(1.0)


def test_personalising_reads_the_visitors_digits_better_and_keeps_mnist(mnist):
    base = load_default_model(shipped_paths("Baseline MLP")[0])
    # "A visitor's handwriting": test digits the MLP misreads, drawn again and again in the same style.
    wrong = np.flatnonzero(predict_proba(base, mnist.x_test / np.float32(255)).argmax(axis=1) != mnist.y_test)[:20]
    images, digits = mnist.x_test[wrong] / np.float32(255), mnist.y_test[wrong]
    tuned = personalise(base, images, digits, replay=mnist)
    change = before_after(base, tuned, images, digits, mnist)
    assert change.yours[0] == 0 and change.yours[1] >= 0.5
    assert change.test[1] >= change.test[0] - 0.005
    assert tuned is not base and change.test_probabilities.shape == (10000, 10)
    with pytest.raises(ValueError, match="from 0 to 9"):
        personalise(base, images[:1], [12], replay=mnist)


def test_symbol_names_that_look_alike_are_one_name_and_invisible_characters_go():
    from core.symbols import check_symbols, symbol_name

    assert symbol_name("  ✓\u200b ") == "✓" and symbol_name("a\u202eb") == "ab"  # zero-width, right-to-left override
    assert symbol_name("ｆｕｌｌ\u00a0width") == "full width" and symbol_name("\x00\x1b[31m") == "[31m"
    with pytest.raises(ValueError, match="same name"):
        check_symbols(["star", "st\u200bar"])  # look the same: refused as duplicates
    assert check_symbols(["![](//127.0.0.2:9/p)", "b"]) == ["![](//127.0.0.2:9/p)", "b"]  # kept; shown as text


def test_the_examples_cap_counts_every_kept_drawing_renamed_symbols_included():
    from core.symbols import MAX_EXAMPLES, MAX_KEPT, Examples

    examples, blank = Examples(), np.zeros((28, 28), np.float32)
    for round_ in range(MAX_KEPT // MAX_EXAMPLES):  # a visitor renames their symbols again and again
        for _ in range(MAX_EXAMPLES):
            examples.add(f"symbol {round_}", blank)
    with pytest.raises(ValueError, match="renamed count too"):
        examples.add("yet another", blank)
    assert len(examples.labels) == MAX_KEPT
