"""Privacy, measured: private training's accuracy and time at ε ≈ 1, 2, 3 and 8 (δ = 1e-5) against the same network
trained without privacy in the same run, each run's ε checked by a second accountant, and the membership attack on
a network that overfits 1,000 digits and on its private twin.

Run from the repository root: `python -m bench.privacy` (about 25 minutes on 2 cores; `--epsilon 3` for one point).
The sweep is scripts/privacy_sweep.py's, which also writes the Privacy page's shipped results.
"""

from __future__ import annotations

import argparse
import time

from core.pictures.data import load_mnist
from scripts.privacy_sweep import EPSILONS, sweep, write


def second_opinion(spend: dict) -> float:
    """ε of the same run by the privacy-loss distribution (PLD) accountant: exact up to discretisation, so the
    Rényi DP bound the app reports must not be below it."""
    import dp_accounting
    from dp_accounting import pld

    step = dp_accounting.PoissonSampledDpEvent(
        spend["sample_rate"], dp_accounting.GaussianDpEvent(spend["noise_multiplier"])
    )
    accountant = pld.PLDAccountant()
    accountant.compose(dp_accounting.SelfComposedDpEvent(step, spend["steps"]))
    return float(accountant.get_epsilon(spend["delta"]))


def main(epsilons, with_twins: bool, to_write: bool) -> None:
    started = time.perf_counter()
    results = sweep(epsilons, load_mnist(), with_twins=with_twins)
    if to_write:
        write(results, time.perf_counter() - started)
    baseline = results["baseline"]
    print(f"\n| ε (reported) | ε (PLD) | test accuracy | seconds | × without privacy ({baseline['seconds']:.0f} s) |")
    print("|---|---|---|---|---|")
    for row in results["private"]:
        check = second_opinion(row["spend"])
        print(
            f"| {row['epsilon']:.3f} | {check:.3f} | {row['test_accuracy']:.2%} | {row['seconds']:.0f} | "
            f"{row['seconds'] / baseline['seconds']:.1f}× |"
        )
        assert row["epsilon"] >= check, "the reported ε is below the exact account"
    print(f"| without privacy | | {baseline['test_accuracy']:.2%} | {baseline['seconds']:.0f} | 1.0× |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilon", type=float, action="append", help="one ε (default: 1, 2, 3 and 8)")
    parser.add_argument("--no-twins", action="store_true", help="skip the membership attack")
    parser.add_argument("--write", action="store_true", help="also write the Privacy page's assets/privacy_sweep.json")
    arguments = parser.parse_args()
    main(tuple(arguments.epsilon or EPSILONS), not arguments.no_twins, arguments.write)
