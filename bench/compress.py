"""Compression, measured: quantization, pruning and distillation of the default model, on the 10,000 test digits.

Run from the repository root: `python -m bench.compress` (about 12 minutes on 2 cores; `--only quantize`
or `--only prune` for a part). Every accuracy of a .tflite file is counted through the TFLite interpreter
(LiteRT), not the Keras model. Latencies are medians of 200 single-digit readings, one thread, against
the float32 TFLite file and the Keras path (the traced graph the app reads drawings with) in the same run.
Distillation trains the student three times distilled and three times alone, same steps, same seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

import numpy as np

from core.distill import Distillation
from core.models import kept_for_server, load_default_model, model_bytes, model_from_bytes, predict_proba
from core.pictures.data import load_mnist
from core.prune import prune
from core.quantize import latency_ms, measure, quantize_all, representative_digits, to_tflite
from core.training.config import STUDENTS
from core.training.loop import build, train

ROOT = Path(__file__).resolve().parent.parent


def keras_latency_ms(model, image: np.ndarray) -> float:
    """Median milliseconds of one digit through the Keras model's traced graph, as the app reads drawings."""
    return latency_ms(lambda one: predict_proba(model, one), image)


def quantization(model, data) -> None:
    variants = quantize_all(model, data, source="Default CNN")
    keras_ms = keras_latency_ms(model, data.x_test[0] / np.float32(255))
    baseline = variants[0]
    print("\n## Quantization (default model)\n")
    print(
        "| variant | size | × float32 file | gzipped | test accuracy | Δ points | ms per digit | × float32 | × Keras |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in variants:
        print(
            f"| {v.quantization} | {v.size_bytes / 1024:,.0f} KB | {v.size_bytes / baseline.size_bytes:.3f} | "
            f"{v.zipped_bytes / 1024:,.0f} KB | {v.accuracy:.2%} | {100 * (v.accuracy - baseline.accuracy):+.2f} | "
            f"{v.latency_ms:.3f} | {v.latency_ms / baseline.latency_ms:.2f} | {v.latency_ms / keras_ms:.3f} |"
        )
    print(f"\nKeras path: {keras_ms:.3f} ms per digit.")
    out = ROOT / "artifacts" / "default_model_int8.tflite"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(variants[-1].flatbuffer)
    print(f"The int8 file is in {out.relative_to(ROOT)} for an interpreter of your own.")


def pruning(model, data, sparsities: list[float]) -> None:
    print("\n## Magnitude pruning with a fine-tune (default model)\n")
    print("| sparsity | fine-tune | test accuracy (TFLite float32) | Δ points | gzipped float32 | gzipped int8 |")
    print("| --- | --- | --- | --- | --- | --- |")
    base = measure(to_tflite(model), quantization="float32", source="default", model=model, data=data)
    print(f"| 0 | none | {base.accuracy:.2%} | 0 | {base.zipped_bytes / 1024:,.0f} KB | |")
    for target in sparsities:
        pruned = prune(model_bytes(model), target, data)
        network = model_from_bytes(pruned.model)
        flat = measure(to_tflite(network), quantization="float32", source="pruned", model=network, data=data)
        small = to_tflite(network, quantization="int8", representative=representative_digits(data))
        int8 = measure(small, quantization="int8", source="pruned", model=network, data=data)
        print(
            f"| {pruned.sparsity:.1%} | {pruned.steps} steps, {pruned.seconds:.0f} s | {flat.accuracy:.2%} | "
            f"{100 * (flat.accuracy - base.accuracy):+.2f} | {flat.zipped_bytes / 1024:,.0f} KB | "
            f"{int8.zipped_bytes / 1024:,.0f} KB ({int8.accuracy:.2%}) |"
        )


def distillation(model, data, student: str, seeds: int) -> None:
    config = STUDENTS[student]
    teacher = Distillation(model_bytes(model), "Default CNN")
    parameters = build(config).count_params()
    share = model.count_params() / parameters
    print(
        f"\n## Distillation into the {student} ({parameters:,} parameters, 1/{share:.0f} of the "
        f"teacher's), T = {teacher.temperature:g}, α = {teacher.alpha:g}, {config.epochs} epochs of "
        f"{config.train_size:,} training digits\n"
    )
    print("| seed | alone | distilled | alone s | distilled s |")
    print("| --- | --- | --- | --- | --- |")
    alone, distilled = [], []
    for seed in range(seeds):
        seeded = dataclasses.replace(config, seed=seed)
        a, d = train(seeded, data), train(seeded, data, distillation=teacher)
        alone.append(a.test_accuracy)
        distilled.append(d.test_accuracy)
        print(f"| {seed} | {a.test_accuracy:.2%} | {d.test_accuracy:.2%} | {a.seconds:.0f} | {d.seconds:.0f} |")
    gain = statistics.mean(distilled) - statistics.mean(alone)
    spread = max(max(alone) - min(alone), max(distilled) - min(distilled))
    print(
        f"\nMean alone {statistics.mean(alone):.2%}, distilled {statistics.mean(distilled):.2%}: "
        f"gain {100 * gain:+.2f} points against a spread across seeds of {100 * spread:.2f} points; "
        f"worst distilled {min(distilled):.2%} against best alone {max(alone):.2%}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=("quantize", "prune", "distill"), help="run one part")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95])
    parser.add_argument("--student", choices=list(STUDENTS), default="Small CNN · 5,000 digits")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    model, data = kept_for_server(load_default_model()), load_mnist()
    if args.only in (None, "quantize"):
        quantization(model, data)
    if args.only in (None, "prune"):
        pruning(model, data, args.sparsities)
    if args.only in (None, "distill"):
        distillation(model, data, args.student, args.seeds)


if __name__ == "__main__":
    main()
