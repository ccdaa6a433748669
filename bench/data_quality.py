"""The data is the program, measured: finding MNIST's label errors, training without them, and the data engine.

Run from the repository root: `python -m bench.data_quality` (about 8 minutes on 2 cores).

1. Label errors. The baseline, in the same run, is the shipped model's plain self-confidence (its probability for
   the given label, lowest first; on the training digits it has fitted them). Planted errors: 1% of the labels the
   networks read confidently are changed to another digit (3 seeds); how many of them each ranking puts in its
   top 1%. Real errors: the top 30 test and top 100 training suspects of both rankings are drawn in contact sheets
   (artifacts/data-suspects-*.png, each with its label and the networks' reading) for a person to judge.
2. Cleaning: the Data page's run (the quick CNN) without the top suspects against the same run on the digits as
   they are, same seed, same steps, 3 seeds.
3. The data engine: 200 drawings in a style the default model reads poorly (harness/symbols.py's LEFT_LEANING:
   thick strokes leaning hard left on a turned page, with random jitter, size, place and pen), 100 to tune on and
   100 held out, drawn with different seeds so they are no near-copies; the baseline is the model before, and
   Teach's personalising settings (2,000 MNIST digits replayed, 16 copies) in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core import data_quality
from core.data_engine import Slice, turn
from core.models import kept_for_server, load_default_model, predict_proba
from core.personalise import before_after, personalise
from core.pictures.data import load_mnist
from core.pictures.preprocess import to_mnist
from core.training.loop import train
from harness.symbols import LEFT_LEANING, drawings

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def planted(split: str, labels: np.ndarray, baseline: np.ndarray, seeds: int) -> None:
    ours = data_quality.out_of_sample(split)
    count = len(labels) // 100
    found = {"confident learning": [], "baseline": []}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        sure = np.flatnonzero((ours.argmax(1) == labels) & (baseline.argmax(1) == labels) & (ours.max(1) > 0.9))
        changed = rng.choice(sure, count, replace=False)
        noisy = labels.astype(np.int64)
        noisy[changed] = (noisy[changed] + rng.integers(1, 10, count)) % 10
        for name, ranking in (
            ("confident learning", data_quality.ranked(noisy, ours)),
            ("baseline", data_quality.self_confidence_ranking(noisy, baseline)),
        ):
            found[name].append(len(set(changed) & set(ranking[:count].tolist())) / count)
    for name, shares in found.items():
        print(f"  {split}: {count} planted, in the top {count}: {name:18s} median {statistics.median(shares):.1%}")


def contact_sheet(path: Path, images, labels, probabilities, ranking, count: int) -> None:
    """The top `count` of a ranking, 10 to a row: each digit with "label→reading"."""
    rows = (count + 9) // 10
    sheet = Image.new("L", (10 * 96, rows * 112), 0)
    pen = ImageDraw.Draw(sheet)
    for rank, index in enumerate(ranking[:count]):
        x, y = (rank % 10) * 96, (rank // 10) * 112
        sheet.paste(Image.fromarray(images[index]).resize((84, 84), Image.Resampling.NEAREST), (x + 6, y + 2))
        pen.text((x + 6, y + 90), f"{rank + 1}: {labels[index]}>{probabilities[index].argmax()} #{index}", fill=255)
    sheet.save(path)


def real_errors(data, default_model) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for split, count in (("test", 30), ("train", 100)):
        images, labels = data_quality.digits(split, data)
        ours = data_quality.out_of_sample(split)
        baseline = predict_proba(default_model, images / np.float32(255))
        rankings = {
            "confident-learning": np.asarray(data_quality.suspects(split)),
            "baseline": data_quality.self_confidence_ranking(labels, baseline),
        }
        for name, ranking in rankings.items():
            path = ARTIFACTS / f"data-suspects-{split}-{name}.png"
            contact_sheet(path, images, labels, ours, ranking, count)
            print(f"  {split}: top {count} by {name} -> {path.relative_to(ARTIFACTS.parent)}")
        shared = len(set(rankings["confident-learning"][:count]) & set(rankings["baseline"][:count]))
        print(f"  {split}: {shared} of the top {count} are in both rankings")
        planted(split, labels, baseline, seeds=3)


def cleaning(data, seeds: int, drops: tuple[int, ...]) -> None:
    results = {drop: [] for drop in (0, *drops)}
    for seed in range(seeds):
        for drop in results:
            config = dataclasses.replace(data_quality.CLEANING_CONFIG, seed=seed, drop_suspects=drop)
            results[drop].append(train(config, data).test_accuracy)
    as_is = results[0]
    print(f"  as they are: {', '.join(f'{a:.2%}' for a in as_is)} (median {statistics.median(as_is):.2%})")
    for drop in drops:
        change = [(c - a) * 100 for c, a in zip(results[drop], as_is, strict=True)]
        print(
            f"  without the top {drop:,}: {', '.join(f'{a:.2%}' for a in results[drop])}; change per seed "
            f"{', '.join(f'{c:+.2f}' for c in change)} points (median {statistics.median(change):+.2f})"
        )


def styled(seed: int) -> Slice:
    canvases, names = drawings([str(digit) for digit in range(10)], 10, seed=seed, style=LEFT_LEANING)
    return Slice.of(np.stack([to_mnist(canvas) for canvas in canvases]), [int(name) for name in names])


def engine(data, model, seeds: int) -> None:
    before = predict_proba(model, data.x_test / np.float32(255))
    runs, teach = [], []
    for seed in range(seeds):
        tune, held = styled(100 + 2 * seed), styled(101 + 2 * seed)  # 100 each, different seeds
        offered = Slice.of(np.concatenate([tune.images, held.images]), np.concatenate([tune.meant, held.meant]))
        runs.append(turn(model, offered, data, before, seed=seed)[1])
        tuned = personalise(model, tune.images, tune.meant, replay=data, seed=seed)  # Teach's settings
        teach.append(before_after(model, tuned, held.images, held.meant, data, before_test_probabilities=before))
    for name, held_out, tests in (
        ("the engine", [r.yours.read for r in runs], [r.test_read for r in runs]),
        ("Teach's settings", [r.yours for r in teach], [r.test for r in teach]),
    ):
        print(
            f"  {name:16s} held-out style: {', '.join(f'{a:.0%}->{b:.0%}' for a, b in held_out)} "
            f"(median {statistics.median((b - a) * 100 for a, b in held_out):+.0f} points); MNIST "
            f"{', '.join(f'{(b - a) * 100:+.2f}' for a, b in tests)} points"
        )
    print(f"  the engine's turn: median {statistics.median(r.seconds for r in runs):.1f} s (target <= 30 s)")


def main(seeds: int, parts: list[str]) -> None:
    data = load_mnist()
    model = kept_for_server(load_default_model())
    if "errors" in parts:
        print("Label errors: confident learning on out-of-sample probabilities, against one network's self-confidence")
        real_errors(data, model)
    if "cleaning" in parts:
        print(f"\nCleaning: the Data page's run without the top suspects, {seeds} seeds")
        cleaning(data, seeds, (300, 1000))
    if "engine" in parts:
        print(f"\nThe data engine: 100 drawings in a style it reads poorly, 100 more held out, {seeds} seeds")
        engine(data, model, seeds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--part", action="append", choices=["errors", "cleaning", "engine"])
    arguments = parser.parse_args()
    main(arguments.seeds, arguments.part or ["errors", "cleaning", "engine"])
