"""Evaluation: confusion matrices, per-class scores, and the test digits behind each number."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.i18n import Text
from core.pictures.data import NUM_CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """(num_classes, num_classes) int64 counts: rows are the true digit, columns the predicted one."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            Text("y_true and y_pred differ in shape: {shape} vs {shape2}", shape=y_true.shape, shape2=y_pred.shape)
        )
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= num_classes):
        raise ValueError(Text("labels must lie in 0..{value}", value=num_classes - 1))
    cells = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return cells.reshape(num_classes, num_classes)


def row_percentages(matrix: np.ndarray) -> np.ndarray:
    """Each row as percentages of that true digit's count (a row of zeros stays zero)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(100.0 * matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


@dataclass(frozen=True)
class ClassReport:
    precision: np.ndarray  # (C,) of the digits predicted as c, the share that really are c
    recall: np.ndarray  # (C,) of the true c, the share predicted as c
    f1: np.ndarray  # (C,) harmonic mean of precision and recall
    support: np.ndarray  # (C,) how many test digits are truly c


def class_report(matrix: np.ndarray) -> ClassReport:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined)."""
    correct = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(correct), where=both > 0)
    return ClassReport(precision, recall, f1, actual)


def most_confused_pairs(matrix: np.ndarray, *, top: int = 10) -> list[tuple[int, int, int]]:
    """The largest off-diagonal cells as (true digit, predicted digit, count), largest first."""
    off_diagonal = matrix * (1 - np.eye(len(matrix), dtype=matrix.dtype))
    order = np.argsort(-off_diagonal, axis=None, kind="stable")[:top]
    pairs = [
        (int(i), int(j), int(off_diagonal[i, j])) for i, j in zip(*np.unravel_index(order, matrix.shape), strict=True)
    ]
    return [pair for pair in pairs if pair[2] > 0]


def cell_indices(y_true: np.ndarray, probabilities: np.ndarray, true_digit: int, predicted_digit: int) -> np.ndarray:
    """Indices of the digits in one cell (true -> predicted), the most confident prediction first."""
    predicted = probabilities.argmax(axis=1)
    indices = np.flatnonzero((y_true == true_digit) & (predicted == predicted_digit))
    confidence = probabilities[indices, predicted_digit]
    return indices[np.argsort(-confidence, kind="stable")]


def disagreements(
    y_true: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(indices model A gets right and B wrong, indices B gets right and A wrong)."""
    right_a, right_b = predicted_a == y_true, predicted_b == y_true
    return np.flatnonzero(right_a & ~right_b), np.flatnonzero(right_b & ~right_a)


@dataclass(frozen=True)
class Evaluation:
    """One model's results on a labelled test set."""

    y_true: np.ndarray  # (N,) true digits
    probabilities: np.ndarray  # (N, C) the model's class probabilities

    @cached_property
    def predicted(self) -> np.ndarray:
        """(N,) the digit each was read as, computed once: pages index it digit by digit."""
        return self.probabilities.argmax(axis=1)

    def mistakes(self, indices: np.ndarray) -> np.ndarray:
        """Those of `indices` the model read wrong, in the same order."""
        indices = np.asarray(indices)
        return indices[self.predicted[indices] != self.y_true[indices]]

    @cached_property
    def matrix(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.predicted, self.probabilities.shape[1])

    @cached_property
    def accuracy(self) -> float:
        return float((self.predicted == self.y_true).mean())

    @cached_property
    def errors(self) -> int:
        return int((self.predicted != self.y_true).sum())

    @cached_property
    def _confidences(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @cached_property
    def _runners_up(self) -> np.ndarray:
        return np.argsort(self.probabilities, axis=1, kind="stable")[:, -2]

    @cached_property
    def _cells(self) -> dict[tuple[int, int], np.ndarray]:
        return {}  # filled as pages ask: a shipped model's evaluation serves every visitor (ui.evaluation)

    def confidence(self, index: int) -> float:
        return float(self._confidences[index])

    def runner_up(self, index: int) -> int:
        """The digit with the second-highest probability."""
        return int(self._runners_up[index])

    def cell(self, true_digit: int, predicted_digit: int) -> np.ndarray:
        """`cell_indices` of this evaluation, each of its C×C cells computed once (read-only: shared)."""
        key = (int(true_digit), int(predicted_digit))
        if key not in self._cells:
            indices = cell_indices(self.y_true, self.probabilities, *key)
            indices.flags.writeable = False
            if max(key) >= self.probabilities.shape[1] or min(key) < 0:
                return indices  # no such cell (empty): kept nowhere, so the kept cells stay at most C×C
            self._cells[key] = indices
        return self._cells[key]

    def right_where_wrong(self, other: Evaluation) -> tuple[np.ndarray, np.ndarray]:
        """(indices this model gets right and `other` wrong, and the reverse)."""
        return disagreements(self.y_true, self.predicted, other.predicted)
