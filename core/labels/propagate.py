"""Label propagation (Zhou et al. 2004, as Iscen et al. 2019 use it for deep semi-supervised learning): the few
labels spread over a graph joining each digit to its nearest neighbours in the encoder's feature space, so a
digit takes the label of the labelled digits its neighbourhood leads to, however far; each digit's certainty is
how little its spread labels disagree."""

from __future__ import annotations

import numpy as np
from scipy import sparse

NEIGHBOURS = 10  # edges per digit
SHARPNESS = 3  # an edge's weight is its cosine similarity to this power (Iscen et al.)
ALPHA = 0.99  # how far labels travel: the share of a digit's label that comes from its neighbours each step
ITERATIONS = 30
CHUNK = 500  # rows of the similarity matrix at once: CHUNK × N floats (120 MB for 60,000 digits)


def graph(features: np.ndarray, neighbours: int = NEIGHBOURS) -> sparse.csr_matrix:
    """The symmetric, normalised kNN graph D^−½ W D^−½ of L2-normalised features (cosine similarity)."""
    unit = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12)
    unit = unit.astype(np.float32)
    count = len(unit)
    rows, columns, weights = [], [], []
    for start in range(0, count, CHUNK):
        similarity = unit[start : start + CHUNK] @ unit.T
        similarity[np.arange(len(similarity)), np.arange(start, start + len(similarity))] = -np.inf  # not itself
        nearest = np.argpartition(-similarity, neighbours, axis=1)[:, :neighbours]
        rows.append(np.repeat(np.arange(start, start + len(similarity)), neighbours))
        columns.append(nearest.reshape(-1))
        weights.append(np.maximum(np.take_along_axis(similarity, nearest, axis=1), 0).reshape(-1) ** SHARPNESS)
    edges = sparse.csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(columns))), (count,) * 2)
    edges = edges + edges.T
    degree = np.asarray(edges.sum(axis=1)).reshape(-1)
    scale = sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    return (scale @ edges @ scale).tocsr()


def propagate(
    features: np.ndarray, positions: np.ndarray, labels: np.ndarray, classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """(each row's label, its certainty in [0, 1]) once the labels at `positions` have spread over the graph of
    `features`. A labelled row keeps its own label."""
    walk = graph(features)
    seeds = np.zeros((len(features), classes), np.float32)
    seeds[positions, labels] = 1.0
    seeds /= np.maximum(seeds.sum(axis=0, keepdims=True), 1.0)  # each class spreads the same total, however many
    spread = seeds.copy()
    for _step in range(ITERATIONS):
        spread = ALPHA * (walk @ spread) + (1 - ALPHA) * seeds
    spread = np.maximum(spread, 0)
    reached = spread.sum(axis=1) > 1e-9  # a digit no label reached within ITERATIONS steps is not certain of any
    share = (spread + 1e-12) / (spread + 1e-12).sum(axis=1, keepdims=True)
    certainty = np.where(reached, 1.0 + (share * np.log(share)).sum(axis=1) / np.log(classes), 0.0)
    found = share.argmax(axis=1)
    found[positions], certainty[positions] = labels, 1.0
    return found, certainty.astype(np.float32)
