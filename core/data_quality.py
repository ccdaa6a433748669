"""Which of MNIST's labels are wrong: confident learning (Northcutt et al. 2021) on out-of-sample probabilities.

A network cannot judge the labels it was trained on, so every digit is judged by networks that never saw it: the
training digits by the cross-validated networks of scripts/cross_validate.py (shipped in assets/), the test
digits by the shipped default model together with those same networks (none trained on a test digit). The ranking
comes from the probabilities and the labels alone, through cleanlab's label-quality scores.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import numpy as np

from core.i18n import Text
from core.pictures.data import ASSETS_DIR, NUM_CLASSES, Mnist, load_mnist
from core.training.config import PRESETS

TRAIN_PROBABILITIES_PATH = ASSETS_DIR / "train_probabilities.npz"  # made by scripts/cross_validate.py
SPLITS = ("train", "test")
FLOOR = 1e-7  # the smallest probability a log is taken of


def ensemble(*probabilities: np.ndarray) -> np.ndarray:
    """Several networks' (n, 10) probabilities as one, by averaging their logarithms (a product of experts).

    An arithmetic mean would let a network trained with label smoothing (it never says more than 0.98) be
    outvoted by any sharper one; the log-average weighs each network's odds alike.
    """
    logs = np.mean([np.log(np.clip(np.asarray(p, np.float64), FLOOR, 1.0)) for p in probabilities], axis=0)
    odds = np.exp(logs - logs.max(axis=1, keepdims=True))
    return odds / odds.sum(axis=1, keepdims=True)


def label_quality(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """(n,) cleanlab's label-quality score of each label, 0 (surely wrong) to 1: confident learning's self-confidence,
    with each class's probabilities first moved by its confident-learning threshold (its mean self-confidence)."""
    from cleanlab.rank import get_label_quality_scores  # imports scikit-learn: only where labels are judged

    labels = np.asarray(labels, np.int64)
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.shape != (len(labels), NUM_CLASSES) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(Text("labels must be (n,) digits and probabilities (n, 10)"))
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    return get_label_quality_scores(labels, probabilities, method="self_confidence", adjust_pred_probs=True)


def ranked(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Indices of every example, the label most likely wrong first."""
    return np.argsort(label_quality(labels, probabilities), kind="stable")


def self_confidence_ranking(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The baseline: indices by one network's probability for the given label, lowest first."""
    return np.argsort(np.asarray(probabilities)[np.arange(len(labels)), labels], kind="stable")


def digits(split: str, data: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of a split: (n, 28, 28) uint8 and (n,)."""
    if split not in SPLITS:
        raise ValueError(Text("split must be one of {SPLITS}; got {split!r}", SPLITS=", ".join(SPLITS), split=split))
    return (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)


@functools.lru_cache(maxsize=2)
def out_of_sample(split: str) -> np.ndarray:
    """(n, 10) probabilities of a split's digits from networks that never trained on them."""
    if split not in SPLITS:
        raise ValueError(Text("split must be one of {SPLITS}; got {split!r}", SPLITS=", ".join(SPLITS), split=split))
    with np.load(TRAIN_PROBABILITIES_PATH) as shipped:
        folds = shipped["probabilities" if split == "train" else "test_probabilities"].astype(np.float32)
    if split == "train":
        return folds
    from core import prepared  # tensorflow: only when the test digits are judged
    from core.models import DEFAULT_MODEL_PATH, load_default_model

    default = prepared.test_answers(DEFAULT_MODEL_PATH, load_default_model, load_mnist())
    return ensemble(default, folds).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _suspects(split: str) -> tuple[int, ...]:
    _, labels = digits(split, load_mnist())
    return tuple(int(index) for index in ranked(labels, out_of_sample(split)))


def suspects(split: str) -> list[int]:
    """Indices of a split's digits ("train" or "test"), the one most suspected of a wrong label first."""
    if split not in SPLITS:
        raise ValueError(Text("split must be one of {SPLITS}; got {split!r}", SPLITS=", ".join(SPLITS), split=split))
    return list(_suspects(split))


def cleaned(
    indices: np.ndarray, labels: np.ndarray, *, drop: int = 0, corrections: Mapping[int, int | None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(kept indices, their labels): training digits without the `drop` top suspects, with a person's corrections.

    `corrections` maps a training digit's index to the digit a person says it is, or to None to leave it out.
    """
    corrections = dict(corrections or {})
    left_out = set(suspects("train")[:drop]) if drop else set()
    left_out |= {index for index, label in corrections.items() if label is None}
    indices = np.asarray(indices, np.int64)
    kept = indices[~np.isin(indices, np.fromiter(left_out, np.int64, len(left_out)))]
    new_labels = np.asarray(labels)[kept].copy()
    relabelled = {index: label for index, label in corrections.items() if label is not None}
    at = np.isin(kept, np.fromiter(relabelled, np.int64, len(relabelled)))
    new_labels[at] = [relabelled[int(index)] for index in kept[at]]
    return kept, new_labels


def check_corrections(corrections: Mapping, data: Mnist, *, most: int) -> dict[int, int | None]:
    """The corrections as {training index: digit or None}, or ValueError with a message a person can act on."""
    if len(corrections) > most:
        raise ValueError(
            Text(
                "At most {most} corrections at once; there are {corrections}.", most=most, corrections=len(corrections)
            )
        )
    checked = {}
    for index, label in corrections.items():
        if type(index) is not int or not 0 <= index < len(data.y_train):
            raise ValueError(Text("No training digit has the index {index!r}.", index=index))
        if label is not None and (type(label) is not int or not 0 <= label < NUM_CLASSES):
            raise ValueError(Text("A corrected label must be a digit from 0 to 9 or none; got {label!r}.", label=label))
        checked[index] = label
    return checked


CLEANING_CONFIG = dataclasses.replace(PRESETS["quick"], seed=0)  # the Data page's run; its run on the digits as
# they are is core.training.reference's, prepared ahead (a test holds the two equal)
