"""How far to trust a network's "96% sure": reliability, expected calibration error, temperature scaling.

A network is calibrated when, of the digits it reads with 96% confidence, 96% are read right. Modern
networks are over-confident (Guo et al. 2017, "On calibration of modern neural networks"); dividing
their scores by one number, a temperature fitted on held-out digits, fixes most of it without
changing a single prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 15  # equal-width confidence bins, as in Guo et al. 2017
TEMPERATURES = (0.05, 20.0)  # the range searched for a temperature


@dataclass(frozen=True)
class Reliability:
    edges: np.ndarray  # (BINS + 1,) bin edges over the top probability, 0 to 1
    confidence: np.ndarray  # (BINS,) mean top probability of the digits in each bin (nan if empty)
    accuracy: np.ndarray  # (BINS,) share of them read right (nan if empty)
    counts: np.ndarray  # (BINS,) digits in each bin


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    """Per equal-width bin of the top probability: how sure the network was, and how often it was right."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)  # (lo, hi] bins, 0 in the first
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(which, confidence, minlength=bins) / counts
        accuracy = np.bincount(which, right.astype(float), minlength=bins) / counts
    return Reliability(edges, mean_confidence, accuracy, counts)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Σ over bins of (share of digits in the bin) × |accuracy − mean confidence| (Naeini et al. 2015)."""
    table = reliability(probabilities, labels, bins)
    used = table.counts > 0
    gaps = np.abs(table.accuracy[used] - table.confidence[used])
    return float((table.counts[used] / table.counts.sum() * gaps).sum())


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same ranking of classes, softer (T > 1) or sharper (T < 1)."""
    scores = np.log(np.clip(probabilities.astype(np.float64), 1e-300, None)) / temperature
    scores -= scores.max(axis=1, keepdims=True)
    odds = np.exp(scores)
    return (odds / odds.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = with_temperature(probabilities, temperature).astype(np.float64)
    return float(-np.log(np.clip(scaled[np.arange(len(labels)), labels], 1e-300, None)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out digits (golden-section search).

    The likelihood is convex in 1 / T (a log-sum-exp of scores linear in it), so the search finds its minimum.
    """
    low, high = 1 / TEMPERATURES[1], 1 / TEMPERATURES[0]  # over β = 1 / T
    golden = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = high - golden * (high - low), low + golden * (high - low)
        if negative_log_likelihood(probabilities, labels, 1 / a) < negative_log_likelihood(
            probabilities, labels, 1 / b
        ):
            high = b
        else:
            low = a
    return float(2 / (low + high))


@dataclass(frozen=True)
class Calibration:
    temperature: float  # fitted on held-out training digits
    ece_before: float  # on the test digits
    ece_after: float
    before: Reliability
    after: Reliability


def calibrate(temperature: float, test_probabilities: np.ndarray, test_labels: np.ndarray) -> Calibration:
    """The test digits' reliability and ECE before and after a temperature (fitted on held-out digits)."""
    scaled = with_temperature(test_probabilities, temperature)
    return Calibration(
        temperature,
        expected_calibration_error(test_probabilities, test_labels),
        expected_calibration_error(scaled, test_labels),
        reliability(test_probabilities, test_labels),
        reliability(scaled, test_labels),
    )
