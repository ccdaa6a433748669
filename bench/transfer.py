"""Transfer learning, measured: new symbols from 5 drawings, why frozen features win, personalising.

Run from the repository root: `python -m bench.transfer` (about 5 minutes on 2 cores). Symbols are the
hand-drawn-looking ones of harness/symbols.py (random size, place, slant, rotation, pen width, wobble);
"a visitor's handwriting" is MNIST test digits drawn in one strong style of their own (slanted, turned,
heavy pen). Times are medians of --repeats, against one prediction measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PIL import Image, ImageFilter

from core.models import kept_for_server, load_default_model, predict_proba
from core.personalise import before_after, personalise
from core.pictures.data import load_mnist
from core.pictures.preprocess import to_mnist
from core.symbols import compare, learn_symbols
from harness.symbols import LOOK_ALIKES, drawings


def pictures(symbols, per_symbol, seed):
    canvases, names = drawings(symbols, per_symbol, seed=seed)
    return np.array([to_mnist(canvas) for canvas in canvases]), names


def in_a_style(images: np.ndarray) -> np.ndarray:
    """MNIST digits as one visitor would draw them: slanted right, turned, with a heavy pen."""
    styled = []
    for image in images:
        picture = Image.fromarray(image).resize((112, 112), Image.Resampling.BILINEAR)
        picture = picture.transform(
            (112, 112), Image.Transform.AFFINE, (1, 0.45, -25, 0, 1, 0), Image.Resampling.BILINEAR
        ).rotate(-18, Image.Resampling.BILINEAR)
        picture = picture.filter(ImageFilter.MaxFilter(9))  # a thick marker
        styled.append(to_mnist(np.asarray(picture)))
    return np.array(styled)


def main(repeats: int) -> None:
    model = kept_for_server(load_default_model())
    data = load_mnist()

    print("New symbols: the 8 look-alikes (+ ×, ← →, b d, ✓ ★), 5 drawings each, 50 more each to check:")
    one = statistics.median(
        [
            (lambda s: (predict_proba(model, data.x_test[:1] / 255.0), time.perf_counter() - s)[1])(time.perf_counter())
            for _ in range(repeats)
        ]
    )
    accuracies, seconds = [], []
    for seed in range(repeats):
        (images, names), (held_out, truth) = pictures(LOOK_ALIKES, 5, seed), pictures(LOOK_ALIKES, 50, 1000 + seed)
        start = time.perf_counter()
        classifier = learn_symbols(model, images, names, seed=seed)
        seconds.append(time.perf_counter() - start)
        read = np.array(classifier.classes)[classifier.predict_proba(held_out).argmax(axis=1)]
        accuracies.append(float((read == np.array(truth)).mean()))
    print(
        f"  held-out accuracy over {repeats} sets of drawings: median {statistics.median(accuracies):.1%}, "
        f"lowest {min(accuracies):.1%} (target >= 90%)"
    )
    print(
        f"  Learn: median {statistics.median(seconds):.2f} s (first {seconds[0]:.2f} s, with tracing) = "
        f"{statistics.median(seconds) / one:.0f}x one prediction ({one * 1000:.1f} ms); target <= 2 s"
    )

    print("\nWhy it works: held-out accuracy by drawings per symbol (12 of each drawn, 3 random splits):")
    images, names = pictures(LOOK_ALIKES, 12, seed=77)
    comparison = compare(model, images, names, rounds=3)
    print("  " + "".join(f"{shot:>8d}" for shot in comparison.shots) + "  per symbol")
    for method, values in comparison.accuracy.items():
        print(f"  {method:16s}" + "".join(f"{value:8.1%}" for value in values))

    print("\nPersonalising on 20 drawings in one visitor's style (2 of each digit), 500 more to check:")
    rng = np.random.default_rng(0)
    picks = np.concatenate([rng.choice(np.flatnonzero(data.y_test == d), 52, replace=False) for d in range(10)])
    styled, digits = in_a_style(data.x_test[picks]), data.y_test[picks]
    train = np.concatenate([np.flatnonzero(digits == d)[:2] for d in range(10)])
    check = np.setdiff1d(np.arange(len(picks)), train)
    times, results = [], []
    for seed in range(3):
        start = time.perf_counter()
        tuned = personalise(model, styled[train], digits[train], replay=data, seed=seed)
        times.append(time.perf_counter() - start)
        results.append(before_after(model, tuned, styled[check], digits[check], data))
    change = results[int(np.argsort([r.test[1] for r in results])[1])]  # the median run by test accuracy
    print(
        f"  the visitor's held-out drawings: {change.yours[0]:.1%} -> {change.yours[1]:.1%} (median of 3 seeds: "
        f"{statistics.median(r.yours[1] for r in results):.1%})"
    )
    print(
        f"  MNIST test accuracy: {change.test[0]:.2%} -> {change.test[1]:.2%} "
        f"({(change.test[1] - change.test[0]) * 100:+.2f} points; all seeds "
        f"{', '.join(f'{(r.test[1] - r.test[0]) * 100:+.2f}' for r in results)}; target >= -0.3)"
    )
    print(f"  personalise: median {statistics.median(times):.1f} s of 3 (target <= 10 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
