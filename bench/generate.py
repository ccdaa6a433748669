"""The generator against its baseline, the conditional VAE, in the same run: every figure from the same 10,000
samples (1,000 per digit) made with the Generate page's defaults.

Run from the repository root: `python -m bench.generate` (about 15 minutes on 2 cores; `--per-digit 100` for a
quick look; `--write` also puts the figures in the generators' cards, assets/generator.json and generator_vae.json).
- reads as asked: the share the shipped default CNN reads as the digit asked (target ≥ 98%);
- classification accuracy score (Ravuri & Vinyals 2019): the Train page's quick CNN trained only on the samples,
  scored on the 10,000 real test digits, against the same CNN trained on as many real training digits in the same
  run (target within 1 point);
- Fréchet distance on the default CNN's last hidden layer between the samples and the test digits, beside the same
  distance between real training digits and the test digits (the floor): the generator at least 2× closer than the
  VAE. Not comparable with Inception-feature FIDs in the literature;
- near-copies by Carlini et al. 2023's criterion (core/generation/copies.py), beside the same share for test digits;
- speed in this process, as the page runs it: 16 samples at the defaults, and Finish my drawing (4 completions):
  medians of 5 (targets 1.5 s and 3 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

from bench.timing import median_seconds
from core import generation
from core.generation.copies import ALPHA, NEIGHBOURS, nearest
from core.models import load_default_model, predict_proba
from core.pictures.data import Mnist, load_mnist
from core.symbols import feature_model
from core.training.config import PRESETS
from core.training.loop import train

BATCH = 250  # digits sampled at once


def samples(generator, per_digit: int) -> tuple[np.ndarray, np.ndarray]:
    asked = np.repeat(np.arange(10), per_digit)
    parts = [
        generation.sample(generator, asked[start : start + BATCH], seed=start) for start in range(0, len(asked), BATCH)
    ]
    return np.concatenate(parts), asked


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features (Heusel et al. 2017)."""
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    # tr √(Σa Σb) = tr √(√Σa Σb √Σa), a symmetric matrix: the sum of the roots of its eigenvalues
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def cas(pictures: np.ndarray, labels: np.ndarray, data: Mnist) -> float:
    """The quick CNN trained on `pictures` alone (10% held out to validate, as every run), scored on the test set."""
    config = dataclasses.replace(PRESETS["quick"], train_size=len(pictures))
    as_bytes = np.clip(pictures * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return train(config, Mnist(as_bytes, labels.astype(np.uint8), data.x_test, data.y_test)).test_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-digit", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="put the figures in the generators' cards")
    args = parser.parse_args()
    data = load_mnist()
    classifier = load_default_model()
    features = feature_model(classifier)
    test = data.x_test / np.float32(255)
    test_features = np.asarray(features.predict(test, verbose=0))
    count = 10 * args.per_digit
    rng = np.random.default_rng(0)
    real = rng.choice(len(data.x_train), count, replace=False)
    rows = {}
    real_pictures = data.x_train[real] / np.float32(255)
    rows["real training digits"] = {
        "fréchet": frechet(np.asarray(features.predict(real_pictures, verbose=0)), test_features),
        "CAS": cas(real_pictures, data.y_train[real], data),
    }
    for name in ("diffusion", "vae"):
        generator = generation.load_generator(name)
        started = time.perf_counter()
        pictures, asked = samples(generator, args.per_digit)
        seconds = time.perf_counter() - started
        read = predict_proba(classifier, pictures).argmax(axis=1)
        found = nearest(pictures, data.x_train / np.float32(255))
        rows[name] = {
            "reads as asked": float((read == asked).mean()),
            "fréchet": frechet(np.asarray(features.predict(pictures, verbose=0)), test_features),
            "CAS": cas(pictures, asked, data),
            "near-copies": found.copy_share,
            f"seconds for {count:,}": seconds,
            "16 samples s": median_seconds(lambda g=generator: generation.sample(g, [3] * 16), 5),
        }
        image, known = test[0], np.zeros((28, 28), bool)
        known[:14] = True
        rows[name]["finish s"] = median_seconds(
            lambda g=generator, i=image, k=known: generation.complete(g, i, k, digit=7, count=4), 5
        )
    test_copies = nearest(test[:1000], data.x_train / np.float32(255)).copy_share
    print(f"\n{count:,} samples per generator, steps {generation.STEPS}, guidance {generation.GUIDANCE}")
    print(f"near-copy: nearest ≤ {ALPHA} × mean of {NEIGHBOURS} nearest; held-out test digits: {test_copies:.2%}")
    columns = list(dict.fromkeys(key for row in rows.values() for key in row))
    print(f"{'':>22} | " + " | ".join(f"{c:>16}" for c in columns))
    for name, row in rows.items():
        print(f"{name:>22} | " + " | ".join(f"{row.get(c, float('nan')):16.4f}" for c in columns))
    ratio = rows["vae"]["fréchet"] / rows["diffusion"]["fréchet"]
    print(f"\nFréchet: the generator is {ratio:.1f}× closer to the test digits than the VAE")
    print(f"CAS: generator {rows['diffusion']['CAS']:.2%}, real {rows['real training digits']['CAS']:.2%}")
    if args.write:
        for name in ("diffusion", "vae"):
            card_path = generation.generator_paths(name)[1]
            card = json.loads(card_path.read_text())
            card["bench"] = {
                "command": f"python -m bench.generate --per-digit {args.per_digit} --write",
                "samples": count,
                "baseline, real training digits": rows["real training digits"],
                "figures": rows[name],
                "test digits' near-copy share": test_copies,
            }
            card_path.write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
