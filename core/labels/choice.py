"""Which digits to ask a person to label: at random, or TypiClust (Hacohen et al. 2022), the network's choice for a
small budget: cluster the unlabelled digits' encoder features into as many groups as there are labels to ask for,
and ask for the most typical digit of each group (the one whose nearest neighbours are nearest)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from core.i18n import N_

CHOICES = {"random": N_("At random"), "typical": N_("The network's choice (TypiClust)")}
POOL = 10_000  # unlabelled training digits a choice looks among
NEIGHBOURS = 20  # typicality: the inverse mean distance to this many nearest neighbours in the cluster
MAX_ASKED = 200
MOST_COMPARED = 2_000  # members of one cluster whose typicality is measured (their distances are a square matrix)


def pool(seed: int, size: int = POOL, total: int = 60_000) -> np.ndarray:
    """The training digits (indices) a choice looks among: a random `size` of them for a seed."""
    return np.sort(np.random.default_rng(seed).choice(total, size, replace=False))


def typicality(features: np.ndarray, neighbours: int = NEIGHBOURS) -> np.ndarray:
    """1 / the mean Euclidean distance of each row to its `neighbours` nearest others."""
    squared = (features**2).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * features @ features.T, 0))
    count = min(neighbours, len(features) - 1)
    if count < 1:
        return np.ones(len(features))
    nearest = np.partition(distances, count, axis=1)[:, 1 : count + 1]  # column 0 is the row itself
    return 1.0 / (nearest.mean(axis=1) + 1e-12)


def typical(features: np.ndarray, count: int, *, seed: int = 0) -> np.ndarray:
    """Positions (into `features`) of `count` digits chosen by TypiClust: the most typical of each of `count`
    k-means clusters, the largest clusters first."""
    count = int(np.clip(count, 1, min(MAX_ASKED, len(features))))
    groups = KMeans(count, n_init=1, random_state=seed).fit_predict(features)
    chosen, rng = [], np.random.default_rng(seed)
    for group in np.argsort(-np.bincount(groups, minlength=count), kind="stable"):
        members = np.flatnonzero(groups == group)
        if len(members) > MOST_COMPARED:
            members = np.sort(rng.choice(members, MOST_COMPARED, replace=False))
        if len(members):
            chosen.append(members[np.argmax(typicality(features[members]))])
    return np.asarray(chosen[:count])


def at_random(size: int, count: int, *, seed: int = 0) -> np.ndarray:
    """Positions of `count` digits out of `size`, at random."""
    return np.random.default_rng(seed).choice(size, min(count, size, MAX_ASKED), replace=False)
