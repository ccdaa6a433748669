"""How far a few labels go: each of core.labels' methods against training from scratch on the same labelled
digits, in the same run, medians over draws of which digits are labelled (the draws' seeds are this bench's).

Run from the repository root (`--draws 1 --per-class 10` for a quick look):
  python -m bench.labels                                          # every method: about 90 minutes on 2 cores
  python -m bench.labels --method scratch --method propagate      # the page's against its baseline: about 60
- 10 and 100 labels (1 and 10 per class): each method's test accuracy and its training time (targets at 100
  labels: ≥ 98.0% in 5 minutes; at 10 labels: ≥ 80%);
- the network's choice (TypiClust) against random choice at 20 labels, the labels MNIST's, trained by the page's
  method (target: 5 points better, median of draws);
- the encoder's features alone: a linear read-out on all 60,000 labels, beside the supervised CNN's 99.6%.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from core.labels import BEST, METHODS, choice, fit_few
from core.labels.encoder import features, load_encoder
from core.labels.sweep import stratified
from core.models import predict_proba
from core.pictures.data import load_mnist

SEED = 4810  # the bench's draws are SEED, SEED + 1, ...


def accuracy(model, data) -> float:
    return float((predict_proba(model, data.x_test / np.float32(255)).argmax(axis=1) == data.y_test).mean())


def fitted(indices: np.ndarray, data, method: str, seed: int) -> tuple[float, float]:
    started = time.perf_counter()
    model = fit_few(indices, data.y_train[indices], method=method, seed=seed, data=data)
    return accuracy(model, data), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--per-class", type=int, action="append", help="labels per class (default: 1 and 10)")
    parser.add_argument("--method", action="append", choices=list(METHODS), help="default: all")
    parser.add_argument("--no-active", action="store_true")
    args = parser.parse_args()
    data, methods = load_mnist(), args.method or list(METHODS)
    seeds = [SEED + draw for draw in range(args.draws)]
    for per_class in args.per_class or [1, 10]:
        print(f"\n{10 * per_class} labels ({per_class} per class), medians of {len(seeds)} draws")
        for method in methods:
            runs = [fitted(stratified(data.y_train, per_class, seed), data, method, seed) for seed in seeds]
            scores = [score for score, _ in runs]
            print(
                f"  {method:>9}: {statistics.median(scores):.2%} (from {min(scores):.2%} to {max(scores):.2%}), "
                f"{statistics.median(seconds for _, seconds in runs):.0f} s",
                flush=True,
            )
    encoder = load_encoder()
    if not args.no_active:
        print(f"\n20 labels, chosen at random or by TypiClust among {choice.POOL:,} digits, trained by {BEST}")
        rows = {"random": [], "typical": []}
        for seed in seeds:
            pool = choice.pool(seed)
            chosen = {
                "typical": pool[choice.typical(features(encoder, data.x_train[pool] / np.float32(255)), 20, seed=seed)],
                "random": pool[choice.at_random(len(pool), 20, seed=seed)],
            }
            for name, indices in chosen.items():
                rows[name].append(fitted(indices, data, BEST, seed)[0])
                print(
                    f"  draw {seed}: {name} {rows[name][-1]:.2%} ({len(set(data.y_train[indices]))} digits)", flush=True
                )
        gain = statistics.median(t - r for t, r in zip(rows["typical"], rows["random"], strict=True))
        typical, random = statistics.median(rows["typical"]), statistics.median(rows["random"])
        print(f"  median: typical {typical:.2%}, random {random:.2%}")
        print(f"  the network's choice gains {gain * 100:+.1f} points (median of draws)")
    train_features = features(encoder, data.x_train / np.float32(255))
    test_features = features(encoder, data.x_test / np.float32(255))
    probe = LogisticRegression(max_iter=500).fit(train_features, data.y_train)
    score = probe.score(test_features, data.y_test)
    print(f"\nThe encoder's features, a linear read-out on all 60,000 labels: {score:.2%}")


if __name__ == "__main__":
    main()
