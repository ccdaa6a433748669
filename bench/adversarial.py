"""Attacks and adversarial training, measured: speed, strength, and what the `robust` preset buys.

Run from the repository root: `python -m bench.adversarial` (about 6 minutes on 2 cores: it trains the
`quick` preset as the baseline and the `robust` preset). `--no-training` measures the attacks only;
`--stretch` also trains at ε = 0.3 (about 15 minutes more). Times are medians of --repeats, each
against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from bench.timing import median_seconds
from core.attacks import ATTACKS, attack_picture, robustness_curves, smallest_flip
from core.models import kept_for_server, load_default_model, predict_proba
from core.pictures.data import load_mnist
from core.training.config import PRESETS
from core.training.loop import train


def independent_pgd(model, images, labels, eps, *, steps=20, seed=1):
    """A second PGD, written apart from core.attacks: eager Keras ops on the probabilities (log p), its own
    random start. Only a cross-check: it agrees on what a sound PGD should find."""
    rng = np.random.default_rng(seed)
    x0 = tf.constant(images)
    x = tf.clip_by_value(x0 + rng.uniform(-eps, eps, images.shape).astype(np.float32), 0, 1)
    onehot = tf.one_hot(labels, 10)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = -tf.reduce_sum(onehot * tf.math.log(model(x, training=False) + 1e-12))
        x = x + 2.5 * eps / steps * tf.sign(tape.gradient(loss, x))
        x = tf.clip_by_value(tf.clip_by_value(x, x0 - eps, x0 + eps), 0, 1)
    return x.numpy()


def accuracy(model, images, labels) -> float:
    return float((predict_proba(model, images).argmax(axis=1) == labels).mean())


def attacked_accuracy(model, images, labels, eps, attack="PGD-20") -> float:
    return accuracy(model, ATTACKS[attack](model, images, labels, eps), labels)


def main(repeats: int, training: bool, stretch: bool) -> None:
    data = load_mnist()
    model = kept_for_server(load_default_model())
    images, labels = data.x_test / np.float32(255), data.y_test
    first, first_labels = images[:1000], labels[:1000]

    print(f"Speed on the default model (medians of {repeats}):")
    one = median_seconds(lambda: predict_proba(model, images[:1]), repeats)
    for name, function in {
        "PGD-20 on one drawing": lambda: attack_picture(model, images[7], attack="PGD-20", eps=0.1),
        "FGSM on one drawing": lambda: attack_picture(model, images[7], attack="FGSM", eps=0.1),
        "smallest change (50 ε at once)": lambda: smallest_flip(model, images[7]),
    }.items():
        seconds = median_seconds(function, repeats)
        print(f"  {name:34s} {seconds * 1000:7.1f} ms = {seconds / one:6.1f}x one prediction ({one * 1000:.2f} ms)")
    thousand = median_seconds(lambda: predict_proba(model, first), max(3, repeats // 2))
    start = time.perf_counter()
    curves = robustness_curves(model, first, first_labels)
    curve_seconds = time.perf_counter() - start
    print(
        f"  {'robustness curves, 1,000 digits':34s} {curve_seconds:7.1f} s  = {curve_seconds / thousand:6.0f}x "
        f"reading them once ({thousand * 1000:.0f} ms); target <= 15 s"
    )
    print(f"    FGSM   {np.round(curves['FGSM'], 3)}\n    PGD-10 {np.round(curves['PGD-10'], 3)}")

    print("\nStrength on the default model, ε = 0.1:")
    fgsm_fooled = int(
        (predict_proba(model, ATTACKS["FGSM"](model, first, first_labels, 0.1)).argmax(1) != first_labels).sum()
    )
    pgd_fooled = int(
        (predict_proba(model, ATTACKS["PGD-20"](model, first, first_labels, 0.1)).argmax(1) != first_labels).sum()
    )
    other = int(
        (predict_proba(model, independent_pgd(model, first, first_labels, 0.1)).argmax(1) != first_labels).sum()
    )
    print(
        f"  of the first 1,000 test digits, read wrong: FGSM {fgsm_fooled}, PGD-20 {pgd_fooled}, "
        f"an independent eager PGD-20 {other} (clean: {int((1 - accuracy(model, first, first_labels)) * 1000)})"
    )
    default_pgd, default_fgsm = (attacked_accuracy(model, images, labels, 0.1, name) for name in ("PGD-20", "FGSM"))
    print(
        f"  all 10,000: clean {accuracy(model, images, labels):.2%}, FGSM {default_fgsm:.2%}, PGD-20 {default_pgd:.2%}"
    )

    if not training:
        return
    print("\nAdversarial training (FGSM with a random start, Wong et al. 2020), against the quick preset:")
    runs = {"quick": PRESETS["quick"], "robust": PRESETS["robust"]}
    if stretch:
        runs["ε 0.3"] = dataclasses.replace(
            PRESETS["robust"], adversarial_eps=0.3, filters=32, epochs=8, batch_size=128, learning_rate=3e-3
        )
    baseline = None
    for name, config in runs.items():
        keras.backend.clear_session()
        result = train(config, data)
        baseline = baseline or result.seconds
        robust = attacked_accuracy(result.model, images, labels, 0.1)
        row = (
            f"  {name:7s} {result.seconds:6.0f} s ({result.seconds / baseline:.1f}x quick) · clean "
            f"{result.test_accuracy:.2%} · PGD-20 on 10,000 at ε 0.1 {robust:.2%}"
        )
        if name != "quick":
            row += f", at ε 0.3 {attacked_accuracy(result.model, images, labels, 0.3):.2%}"
            row += f" · per-epoch check {[round(point[2], 3) for point in result.history['robust']]}"
        print(row, flush=True)
    print(
        f"  (the default model under PGD-20 at ε 0.1: {default_pgd:.2%}; target for robust: >= 90%, "
        ">= 98.5% clean, <= 4 min)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-training", action="store_true", help="measure the attacks only")
    parser.add_argument("--stretch", action="store_true", help="also train at ε = 0.3")
    arguments = parser.parse_args()
    main(arguments.repeats, not arguments.no_training, arguments.stretch)
