"""Evaluation functions against plain loops over the same predictions (an independent computation)."""

import numpy as np
import pytest

from core.metrics import (
    Evaluation,
    cell_indices,
    class_report,
    confusion_matrix,
    disagreements,
    most_confused_pairs,
    row_percentages,
)


@pytest.fixture(scope="module")
def random_predictions():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 2000)
    logits = rng.normal(size=(2000, 10))
    logits[np.arange(2000), y_true] += 2.0  # mostly right, with plenty of mistakes
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, probabilities


def loop_confusion(y_true, y_pred):
    matrix = [[0] * 10 for _ in range(10)]
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[t][p] += 1
    return np.array(matrix)


def test_confusion_matrix_matches_a_loop(random_predictions):
    y_true, probabilities = random_predictions
    y_pred = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(matrix, loop_confusion(y_true, y_pred))
    assert matrix.shape == (10, 10) and matrix.sum() == len(y_true)


def test_confusion_matrix_on_the_shipped_model_agrees_with_its_accuracy(default_model, mnist):
    from core.models import load_model_card, predict_proba

    y_pred = predict_proba(default_model, mnist.x_test / np.float32(255)).argmax(axis=1)
    matrix = confusion_matrix(mnist.y_test, y_pred)
    np.testing.assert_array_equal(matrix, loop_confusion(mnist.y_test, y_pred))
    assert np.trace(matrix) / 10000 == pytest.approx(load_model_card()["test_accuracy"], abs=1e-4)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(mnist.y_test))


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match="0..9"):
        confusion_matrix(np.array([0, 10]), np.array([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.array([0, 1]), np.array([0]))


def test_class_report_matches_counting(random_predictions):
    y_true, probabilities = random_predictions
    y_pred = probabilities.argmax(axis=1)
    report = class_report(confusion_matrix(y_true, y_pred))
    for c in range(10):
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == c and p != c)
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        assert report.precision[c] == pytest.approx(precision)
        assert report.recall[c] == pytest.approx(recall)
        assert report.f1[c] == pytest.approx(2 * precision * recall / (precision + recall))
        assert report.support[c] == tp + fn


def test_class_report_with_a_class_never_predicted_is_zero_not_nan():
    report = class_report(confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 0])))
    assert report.precision[1] == 0 and report.recall[1] == 0 and report.f1[1] == 0
    assert not np.isnan(report.f1).any()


def test_row_percentages_sum_to_100_per_present_digit():
    matrix = confusion_matrix(np.array([0, 0, 0, 2]), np.array([0, 1, 1, 2]))
    percentages = row_percentages(matrix)
    assert percentages[0].tolist()[:2] == pytest.approx([100 / 3, 200 / 3])
    assert percentages[1].sum() == 0 and percentages[2, 2] == 100


def test_cell_indices_are_exactly_that_cell_most_confident_first(random_predictions):
    y_true, probabilities = random_predictions
    y_pred = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred)
    for t, p in [(4, 9), (3, 3), (0, 7)]:
        indices = cell_indices(y_true, probabilities, t, p)
        assert len(indices) == matrix[t, p]
        assert set(indices) == {i for i in range(len(y_true)) if y_true[i] == t and y_pred[i] == p}
        confidence = probabilities[indices, p]
        assert np.all(np.diff(confidence) <= 0)


def test_most_confused_pairs_are_the_largest_off_diagonal_cells():
    matrix = np.zeros((10, 10), int)
    np.fill_diagonal(matrix, 100)
    matrix[4, 9], matrix[7, 2], matrix[3, 5] = 7, 9, 1
    assert most_confused_pairs(matrix) == [(7, 2, 9), (4, 9, 7), (3, 5, 1)]
    assert most_confused_pairs(matrix, top=1) == [(7, 2, 9)]


def test_disagreements_split_the_digits_each_model_alone_gets_right():
    y_true = np.array([1, 2, 3, 4])
    a_right_b_wrong, b_right_a_wrong = disagreements(y_true, np.array([1, 2, 0, 0]), np.array([1, 0, 3, 0]))
    assert a_right_b_wrong.tolist() == [1] and b_right_a_wrong.tolist() == [2]


def test_evaluation_bundles_the_same_numbers(random_predictions):
    y_true, probabilities = random_predictions
    result = Evaluation(y_true, probabilities)
    assert result.errors == int((probabilities.argmax(1) != y_true).sum())
    assert result.accuracy == pytest.approx(1 - result.errors / len(y_true))
    assert [result.runner_up(i) for i in range(len(y_true))] == [int(np.argsort(p)[-2]) for p in probabilities]
    assert [result.confidence(i) for i in range(len(y_true))] == [float(p.max()) for p in probabilities]
    for true_digit, predicted_digit in [(0, 0), (3, 5), (9, 1), (3, 5)]:  # asked twice: the same, kept
        cell = result.cell(true_digit, predicted_digit)
        assert cell.tolist() == cell_indices(y_true, probabilities, true_digit, predicted_digit).tolist()
        assert not cell.flags.writeable  # shared by every visitor of a shipped model: nobody changes it
    assert result.cell(10, 3).size == 0 and result.cell(-1, 3).size == 0  # no such digit: nothing kept for it
    assert len(result._cells) == 3


def test_mistakes_are_the_given_digits_read_wrong_in_order():
    from core.metrics import Evaluation

    probabilities = np.eye(10)[[1, 2, 3, 3, 5]]  # read as 1, 2, 3, 3, 5
    result = Evaluation(np.array([1, 2, 2, 3, 4]), probabilities)
    assert list(result.mistakes(np.array([4, 0, 2]))) == [4, 2]
    assert result.predicted is result.predicted  # computed once
