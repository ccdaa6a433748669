"""The Labels page's shipped results: each method's test accuracy at several numbers of labels (core.labels.sweep's
PER_CLASS, DRAWS draws of which digits are labelled), 20 labels at random for the page's comparison, and a t-SNE
map (van der Maaten & Hinton 2008) of the encoder's features of test digits.

Run from the repository root after scripts/pretrain.py (about 45 minutes on 2 cores):
  python -m scripts.labels_sweep
Writes assets/labels_sweep.json, with the encoder's checksum, the machine and the time each fit took.
"""

from __future__ import annotations

import json
import os
import platform
import time

import numpy as np
from sklearn.manifold import TSNE

from core.labels import BEST, fit_few
from core.labels.encoder import ENCODER_PATH, features, load_encoder
from core.labels.sweep import DRAWS, MAP_DIGITS, PER_CLASS, SWEEP_PATH, stratified
from core.models import predict_proba
from core.pictures.data import file_sha256, load_mnist

SEED = 4820
ROOM = 20  # labels in the page's own comparison: at random, by the page's method


def fit(indices: np.ndarray, data, method: str, seed: int) -> dict:
    started = time.perf_counter()
    model = fit_few(indices, data.y_train[indices], method=method, seed=seed, data=data)
    seconds = time.perf_counter() - started
    read = predict_proba(model, data.x_test / np.float32(255)).argmax(axis=1)
    row = {"method": method, "labels": len(indices), "seed": seed, "accuracy": float((read == data.y_test).mean())}
    print(row, f"{seconds:.0f} s", flush=True)
    return row | {"seconds": round(seconds, 1)}


def main() -> None:
    os.nice(19)
    started, data = time.perf_counter(), load_mnist()
    rows = [
        fit(stratified(data.y_train, per_class, SEED + draw), data, method, SEED + draw)
        for method, sizes in PER_CLASS.items()
        for per_class in sizes
        for draw in range(DRAWS)
    ]
    rng = np.random.default_rng(SEED)
    random_20 = [fit(rng.choice(len(data.x_train), ROOM, replace=False), data, BEST, SEED + d) for d in range(DRAWS)]
    shown = np.random.default_rng(SEED).choice(len(data.x_test), MAP_DIGITS, replace=False)
    seen = features(load_encoder(), data.x_test[shown] / np.float32(255))
    plane = TSNE(2, init="pca", random_state=SEED).fit_transform(seen)
    sweep = {
        "encoder_sha256": file_sha256(ENCODER_PATH),
        "draws": DRAWS,
        "rows": rows,
        "random_20": random_20,
        "map": {"test_digits": shown.tolist(), "xy": np.round(plane, 2).tolist()},
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    SWEEP_PATH.write_text(json.dumps(sweep) + "\n")
    print(f"wrote {SWEEP_PATH.name} in {sweep['minutes']} min", flush=True)


if __name__ == "__main__":
    main()
