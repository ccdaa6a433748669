"""How well photos of digits are read: synthetic photos of MNIST test digits, one row per condition.

    python -m bench.photos [--digits 500] [--samples tests/data]

Each condition turns the same test digits (never trained on) into pictures as people upload them,
with random margins, light angles, line spacings and ink colours, runs them through the Draw page's
path (`load_image` of the encoded file, then `read_picture`), and reports accuracy and refusals
against the clean 28x28 digits in the same run. Target: every condition >= 97% read right, none refused.
`--samples DIR` also writes one picture per condition (the browser test uploads them).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from core.models import kept_for_server, load_default_model, predict_proba
from core.pictures.data import load_mnist
from core.pictures.preprocess import load_image
from core.reading import read_picture
from harness.photos import conditions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=500, help="test digits per condition")
    parser.add_argument("--samples", type=Path, help="also write one sample picture per condition here")
    args = parser.parse_args()
    data, model = load_mnist(), kept_for_server(load_default_model())
    rng = np.random.default_rng(2026)
    indices = rng.choice(len(data.y_test), args.digits, replace=False)
    clean = predict_proba(model, data.x_test[indices] / np.float32(255)).argmax(1) == data.y_test[indices]
    print(f"{'condition':38s} {'read right':>10s} {'refused':>8s}")
    print(f"{'clean 28x28 test digits (baseline)':38s} {clean.mean():10.1%} {0:8d}")
    for name, make in conditions(rng).items():
        right = refused = 0
        for index in indices:
            reading = read_picture(model, load_image(make(data.x_test[index])))
            refused += reading is None
            right += reading is not None and reading.digit == data.y_test[index]
        print(f"{name:38s} {right / len(indices):10.1%} {refused:8d}", flush=True)
    if args.samples:
        args.samples.mkdir(parents=True, exist_ok=True)
        for name, make in conditions(np.random.default_rng(7)).items():
            index = int(np.flatnonzero(data.y_test == 4)[3])
            data_bytes = make(data.x_test[index])
            suffix = "jpg" if data_bytes[:2] == b"\xff\xd8" else "png"
            path = args.samples / f"photo-4-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.{suffix}"
            path.write_bytes(data_bytes)
            print("wrote", path)


if __name__ == "__main__":
    main()
