"""Compute ahead what the pages show first for each shipped model, so a talk's chapters answer at once.

Run from the repository root after a shipped model changes (a few minutes on 2 cores):
  python -m scripts.prepare                      # every kind of result for every shipped model
  python -m scripts.prepare --kind shift --model "Baseline MLP"
Writes assets/prepared/<kind>-<model file>.json, each with the checksum of the model file it came from: a page
shows a result only while it matches (core/prepared.py).
"""

from __future__ import annotations

import argparse
import time

from core import prepared
from core.models import SHIPPED_MODELS, lasting, load_default_model, shipped_paths
from core.pictures.data import load_mnist


def main(kinds: list[str], labels: list[str]) -> None:
    data = load_mnist()
    for label in labels:
        model_file = shipped_paths(label)[0]
        model = lasting(load_default_model(model_file))
        for kind in kinds:
            started = time.perf_counter()
            result = prepared.compute(model, kind, *prepared.inputs(kind, data))
            seconds = time.perf_counter() - started
            path = prepared.save(kind, model_file, result, seconds)
            print(f"{label}: {kind} in {seconds:.1f} s -> {path.relative_to(path.parents[2])}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", action="append", choices=list(prepared.KINDS), help="one kind (default: all)")
    parser.add_argument("--model", action="append", choices=list(SHIPPED_MODELS), help="one model (default: all)")
    args = parser.parse_args()
    main(args.kind or list(prepared.KINDS), args.model or list(SHIPPED_MODELS))
