"""The robust CNN at ε = 0.3 (issue 33), attacked every way we know, against the default CNN in the same run.

Run from the repository root: `python -m bench.robust` (about 40 minutes on 2 cores; `--digits 200 --test 1000`
for a quick look). For each model:

- clean accuracy and PGD-100 (one random start, step 0.01) on `--test` test digits (all 10,000 by default);
- on the first `--digits` test digits: PGD-100 with 10 random restarts (a digit counts as robust only if every
  restart fails), PGD-100 on the margin loss (Carlini & Wagner's, which does not saturate like cross-entropy),
  a transfer attack (PGD-100 on the *other* model, its pictures shown to this one), and a black-box attack that
  uses no gradient at all (Square attack, Andriushchenko et al. 2020, `--queries` queries per digit).

A model that only hides its gradients ("gradient masking") looks robust to PGD and not to the black-box or
transfer attacks; a sound one is hit hardest by the white-box attacks. Reference: Madry et al.'s MNIST challenge
model holds 89.6% under PGD-100 with 50 restarts and 88.0% under the best attack submitted to the challenge.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

from core.attacks import pgd
from core.models import gradient_batch, kept_for_server, load_default_model, logits, predict_proba
from core.pictures.data import ASSETS_DIR, IMAGE_SIZE, load_mnist

EPS = 0.3
STEP = 0.01  # Madry et al.'s PGD step at ε = 0.3
STEPS = 100


def accuracy(model, images, labels) -> np.ndarray:
    """(N,) whether each digit is read right."""
    return predict_proba(model, images).argmax(axis=1) == labels


def margin_gradient(model: keras.Model):
    """g(images, labels): the gradient of (the best wrong score − the true score), on the logits."""
    scores = logits(model)

    @tf.function(
        input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32), tf.TensorSpec((None,), tf.int32)]
    )
    def gradient(images, labels):
        with tf.GradientTape() as tape:
            tape.watch(images)
            values = scores(images, training=False)
            true = tf.gather(values, labels, batch_dims=1)
            wrong = tf.reduce_max(values - 1e9 * tf.one_hot(labels, tf.shape(values)[1]), axis=1)
            loss = tf.reduce_sum(wrong - true)
        return tape.gradient(loss, images)

    return gradient


def margin_pgd(model, images, labels, *, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    gradient, batch = margin_gradient(model), gradient_batch(model)
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for start in range(0, len(images), batch):
        part = slice(start, start + batch)
        original = images[part]
        x = np.clip(original + rng.uniform(-EPS, EPS, original.shape).astype(np.float32), 0, 1)
        for _ in range(steps):
            grad = gradient(x, labels[part].astype(np.int32)).numpy()
            x = np.clip(np.clip(x + STEP * np.sign(grad), original - EPS, original + EPS), 0, 1)
        out[part] = x
    return out


def margins(model, images, labels) -> np.ndarray:
    """(N,) the true class's logit minus the best other one: positive while the digit is read right."""
    scores = logits(model)
    values = np.concatenate([scores(images[s : s + 1000], training=False).numpy() for s in range(0, len(images), 1000)])
    true = values[np.arange(len(labels)), labels]
    values[np.arange(len(labels)), labels] = -np.inf
    return true - values.max(axis=1)


def square_attack(model, images, labels, *, queries: int, seed: int = 0) -> np.ndarray:
    """(N,) whether each digit is still read right after the L∞ Square attack (Andriushchenko et al. 2020).

    No gradients: random squares of ±ε, kept when they lower the margin, their size shrinking on the paper's
    schedule (p_init 0.8, halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10,000 queries).
    """
    rng = np.random.default_rng(seed)
    count, side = len(images), IMAGE_SIZE
    best = np.clip(images + EPS * rng.choice([-1.0, 1.0], (count, 1, side)).astype(np.float32), 0, 1)  # stripes
    best_margin = margins(model, best, labels)
    halvings = np.array([10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000]) * queries / 10_000
    for query in range(1, queries):
        active = np.flatnonzero(best_margin > 0)
        if not len(active):
            break
        p = 0.8 / 2 ** int((query > halvings).sum())
        size = int(min(max(round(np.sqrt(p * side * side)), 1), side - 1))
        candidate = best[active].copy()
        rows = rng.integers(0, side - size + 1, len(active))
        cols = rng.integers(0, side - size + 1, len(active))
        signs = rng.choice([-1.0, 1.0], len(active)).astype(np.float32)
        for index, (row, col, sign) in enumerate(zip(rows, cols, signs, strict=True)):
            window = (slice(row, row + size), slice(col, col + size))
            candidate[index][window] = np.clip(images[active[index]][window] + sign * EPS, 0, 1)
        new_margin = margins(model, candidate, labels[active])
        better = new_margin < best_margin[active]
        best[active[better]] = candidate[better]
        best_margin[active[better]] = new_margin[better]
    return best_margin > 0


def measure(name, model, other, data, *, test: int, digits: int, queries: int) -> dict:
    print(f"\n{name}", flush=True)
    x_test, y_test = data.x_test[:test].astype(np.float32) / 255, data.y_test[:test].astype(np.int32)
    x, y = x_test[:digits], y_test[:digits]
    results, started = {}, time.perf_counter()

    def note(key, value):
        results[key] = float(value)
        print(f"  {key:<40} {value:7.2%}   ({time.perf_counter() - started:5.0f} s)", flush=True)

    note(f"clean ({test:,})", accuracy(model, x_test, y_test).mean())
    note(
        f"PGD-100 ({test:,})",
        accuracy(model, pgd(model, x_test, y_test, EPS, steps=STEPS, step_size=STEP), y_test).mean(),
    )
    robust = accuracy(model, x, y)
    for restart in range(10):  # only the digits still standing need another start
        left = np.flatnonzero(robust)
        attacked = pgd(model, x[left], y[left], EPS, steps=STEPS, step_size=STEP, seed=100 + restart)
        robust[left] = accuracy(model, attacked, y[left])
    note(f"PGD-100, 10 restarts ({digits:,})", robust.mean())
    note(f"PGD-100, margin loss ({digits:,})", accuracy(model, margin_pgd(model, x, y), y).mean())
    transferred = pgd(other, x, y, EPS, steps=STEPS, step_size=STEP, seed=7)
    note(f"transfer from the other model ({digits:,})", accuracy(model, transferred, y).mean())
    note(f"Square attack, {queries:,} queries ({digits:,})", square_attack(model, x, y, queries=queries).mean())
    white = min(results[key] for key in results if key.startswith("PGD"))
    black = min(results[key] for key in results if key.startswith(("transfer", "Square")))
    print(f"  lowest white-box {white:.2%}; lowest black-box or transfer {black:.2%}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", type=int, default=10_000, help="test digits for clean and PGD-100")
    parser.add_argument("--digits", type=int, default=1_000, help="test digits for the other attacks")
    parser.add_argument("--queries", type=int, default=1_000, help="Square attack's queries per digit")
    parser.add_argument("--model", default=str(ASSETS_DIR / "robust_model.keras"))
    args = parser.parse_args()
    data = load_mnist()
    robust = kept_for_server(keras.models.load_model(args.model, compile=False, safe_mode=True))
    default = kept_for_server(load_default_model())
    print(f"ε = {EPS}; PGD steps of {STEP}; {args.test:,} and {args.digits:,} test digits; {args.queries} queries")
    measure("Robust CNN", robust, default, data, test=args.test, digits=args.digits, queries=args.queries)
    measure("Default CNN (baseline)", default, robust, data, test=args.test, digits=args.digits, queries=args.queries)


if __name__ == "__main__":
    main()
