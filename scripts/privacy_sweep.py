"""The Privacy page's shipped results: private training's accuracy at several ε, and the membership attack on a
network that overfits 1,000 digits and on its private twin.

Private runs are the Train page's `private` preset (DP-SGD on Papernot et al.'s tanh CNN, δ = 1e-5) at each ε;
the baseline, in the same run, is the same network trained without privacy (Adam, as a plain run would be).
Run from the repository root; anyone can re-run it (about 25 minutes on 2 cores):
  python -m scripts.privacy_sweep
  python -m scripts.privacy_sweep --epsilon 3 --no-write     # one point, to check it
Writes assets/privacy_sweep.json, with the machine and the time it took.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time

import numpy as np

from core import membership
from core.pictures.data import MNIST_PATH, file_sha256, load_mnist
from core.privacy import SWEEP_PATH
from core.training.config import PRESETS
from core.training.loop import train

EPSILONS = (1.0, 2.0, 3.0, 8.0)
BASELINE = dataclasses.replace(
    PRESETS["private"], dp_epsilon=0.0, optimizer="adam", learning_rate=3e-3, schedule="one_cycle"
)


def run(config, data) -> dict:
    started = time.perf_counter()
    result = train(config, data)
    row = {
        "epsilon": result.privacy.epsilon if result.privacy else None,
        "test_accuracy": result.test_accuracy,
        "seconds": round(time.perf_counter() - started, 1),
        "config": dataclasses.asdict(config),
    }
    if result.privacy:
        row["spend"] = dataclasses.asdict(result.privacy)
    return row


def sweep(epsilons, data, *, with_twins: bool = True) -> dict:
    """Every point of the sweep, printed as it comes."""
    baseline = run(BASELINE, data)
    print(f"without privacy: {baseline['test_accuracy']:.2%} in {baseline['seconds']:.0f} s", flush=True)
    private = []
    for target in epsilons:
        row = run(dataclasses.replace(PRESETS["private"], dp_epsilon=target), data)
        private.append(row)
        print(
            f"ε {row['epsilon']:.2f} (asked {target:g}): {row['test_accuracy']:.2%} in {row['seconds']:.0f} s, "
            f"{row['seconds'] / baseline['seconds']:.1f}x the run without privacy; noise "
            f"{row['spend']['noise_multiplier']:.3f}, {row['spend']['steps']} steps",
            flush=True,
        )
    results = {"baseline": baseline, "private": private}
    if with_twins:
        started = time.perf_counter()
        twins = membership.twins(data)
        for name, twin in twins.items():
            print(
                f"membership attack on the {name} network ({membership.MEMBERS:,} digits): AUC {twin['auc']:.3f}, "
                f"advantage {twin['advantage']:.3f}, test {twin['test_accuracy']:.2%}, ε {twin['epsilon']:.2f}",
                flush=True,
            )
        results["membership"] = {
            name: {key: value.tolist() if isinstance(value, np.ndarray) else value for key, value in twin.items()}
            for name, twin in twins.items()
        }
        results["membership_seconds"] = round(time.perf_counter() - started, 1)
    return results


def write(results: dict, seconds: float) -> None:
    """The sweep as the Privacy page reads it, with how and where it was made."""
    results = dict(results)
    results.update(
        {
            "delta": 1e-5,
            "seconds": round(seconds),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "mnist_sha256": file_sha256(MNIST_PATH),
            "command": "python -m scripts.privacy_sweep (or python -m bench.privacy --write)",
        }
    )
    SWEEP_PATH.write_text(json.dumps(results, indent=1) + "\n")
    print(f"-> {SWEEP_PATH}")


def main(epsilons, to_write: bool) -> None:
    os.nice(10)
    started = time.perf_counter()
    results = sweep(epsilons, load_mnist(), with_twins=to_write)
    if to_write:
        write(results, time.perf_counter() - started)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epsilon", type=float, action="append", help="one ε (default: 1, 2, 3 and 8)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the asset")
    arguments = parser.parse_args()
    main(tuple(arguments.epsilon or EPSILONS), not arguments.no_write)
