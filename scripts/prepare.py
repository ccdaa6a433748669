"""Compute ahead what the pages show first, so a talk's chapters answer at once.

Run from the repository root after a shipped model or a default changes (about 5 minutes on 2 cores):
  python -m scripts.prepare                      # every kind of result for every shipped model, and the references
  python -m scripts.prepare --kind shift --model "Baseline MLP" --no-references
Writes assets/prepared/<kind>-<file>.json, each with the checksum of the file it came from (a model, or the data a
reference run trained on) and its settings: a page shows a result only while both match (core/prepared.py).
The references are one Remember run per method, with the page's defaults, and the Quick preset's training run (the
Train page's curves before a visitor's own; the Data page's run on the digits as they are).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

from core import continual, prepared
from core.models import SHIPPED_MODELS, kept_for_server, load_default_model, shipped_paths
from core.pictures.data import MNIST_PATH, load_mnist
from core.training import reference
from core.training.loop import train


def references(data) -> None:
    """One Remember run per method with the page's defaults: the page shows it before a visitor runs their own."""
    for method in continual.METHODS:
        config = continual.ContinualConfig(method=method)
        started = time.perf_counter()
        result = continual.run(config, data)
        seconds = time.perf_counter() - started
        kind = continual.reference_kind(config)
        path = prepared.save(kind, MNIST_PATH, result.record(), seconds, settings=asdict(config))
        print(
            f"Remember, {method}: average {result.average_accuracy:.1%} in {seconds:.1f} s -> {path.name}", flush=True
        )


def train_reference(data) -> None:
    """The Quick preset's run: the Train page shows its curves before a visitor's own, the Data page compares a cleaned
    run with it."""
    result = train(reference.CONFIG, data)
    path = reference.save(result)
    print(f"Train, Quick preset: {result.test_accuracy:.2%} in {result.seconds:.1f} s -> {path.name}", flush=True)


def main(kinds: list[str], labels: list[str], with_references: bool) -> None:
    data = load_mnist()
    if with_references:
        references(data)
        train_reference(data)
    for label in labels:
        model_file = shipped_paths(label)[0]
        model = kept_for_server(load_default_model(model_file))
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
    parser.add_argument("--no-references", action="store_true", help="leave the Remember runs as they are")
    args = parser.parse_args()
    main(args.kind or list(prepared.KINDS), args.model or list(SHIPPED_MODELS), not args.no_references)
