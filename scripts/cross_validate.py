"""Out-of-sample probabilities for MNIST's 60,000 training digits, for finding their label errors (core.data_quality).

A network cannot judge the labels it learnt: it has fitted them. So the training digits are cut into FOLDS parts
(stratified, seeded); for each part a network is trained on the other parts and reads the part it never saw. Every
digit's probabilities come from a network that did not train on it, as confident learning needs (Northcutt et al.
2021, section 4). The networks are the Train page's quick CNN, without label smoothing (it caps every probability
and blurs the margins confident learning reads) for EPOCHS epochs.

Run from the repository root; anyone can re-run it and get the same file on the same machine kind:
  python -m scripts.cross_validate          # about 6 minutes on 2 cores
Writes assets/train_probabilities.npz: "probabilities" (60000, 10) float16, and "test_probabilities" (10000, 10)
float16, the folds' networks averaged on the test digits (none of them saw one); its card is
assets/train_probabilities.json.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time

import numpy as np

from core.data_quality import TRAIN_PROBABILITIES_PATH
from core.models import predict_proba
from core.pictures.data import MNIST_PATH, Mnist, file_sha256, load_mnist
from core.training.config import PRESETS, stratified_subset
from core.training.loop import train

FOLDS = 5
EPOCHS = 4
SEED = 0
CONFIG = dataclasses.replace(PRESETS["quick"], epochs=EPOCHS, validation_share=0.05, seed=SEED)


def folds(labels: np.ndarray, count: int, *, seed: int) -> list[np.ndarray]:
    """`count` disjoint index sets covering every digit, each with the classes in their proportions."""
    order = stratified_subset(labels, len(labels), seed=seed)
    by_class = [order[labels[order] == digit] for digit in np.unique(labels)]
    return [np.sort(np.concatenate([members[part::count] for members in by_class])) for part in range(count)]


def main() -> None:
    os.nice(19)
    data = load_mnist()
    started = time.perf_counter()
    probabilities = np.zeros((len(data.y_train), 10), np.float32)
    on_test = np.zeros((len(data.y_test), 10), np.float32)
    accuracies = []
    for number, held_out in enumerate(folds(data.y_train, FOLDS, seed=SEED), start=1):
        kept = np.setdiff1d(np.arange(len(data.y_train)), held_out)
        fold = Mnist(data.x_train[kept], data.y_train[kept], data.x_train[held_out], data.y_train[held_out])
        result = train(CONFIG, fold)
        probabilities[held_out] = predict_proba(result.model, data.x_train[held_out] / np.float32(255))
        on_test += predict_proba(result.model, data.x_test / np.float32(255)) / FOLDS
        accuracies.append(result.test_accuracy)  # on its held-out fold, with the labels as given
        print(f"fold {number}/{FOLDS}: {result.test_accuracy:.4f} on its {len(held_out)} held-out digits", flush=True)
    seconds = time.perf_counter() - started
    np.savez_compressed(
        TRAIN_PROBABILITIES_PATH,
        probabilities=probabilities.astype(np.float16),
        test_probabilities=on_test.astype(np.float16),
    )
    card = {
        "what": "out-of-sample probabilities of MNIST's training digits, by k-fold cross-validation",
        "folds": FOLDS,
        "config": dataclasses.asdict(CONFIG),
        "held_out_accuracy": [round(a, 4) for a in accuracies],
        "test_accuracy_of_the_folds_averaged": round(float((on_test.argmax(1) == data.y_test).mean()), 4),
        "seconds": round(seconds),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "mnist_sha256": file_sha256(MNIST_PATH),
        "command": "python -m scripts.cross_validate",
    }
    TRAIN_PROBABILITIES_PATH.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
