"""Continual learning on split MNIST, measured against the published figures for the same network.

Run from the repository root: `python -m bench.continual` (about 5 minutes on 2 cores). Each method runs
with the Remember page's defaults (600 steps of 128 digits per task, Adam 3e-4, seed 0); joint training,
the upper bound, is the same-run baseline. The first run also goes through the job runner, as from the
page, to time the first matrix cell from pressing Run.
"""

from __future__ import annotations

import argparse
import time

from core.continual import MEMORY_MB, ContinualConfig, run
from core.pictures.data import load_mnist
from core.runs.child import MEMORY_HEADROOM_MB, warm_forkserver
from core.runs.job import Job

RUNS = [  # (label, config, target, what Hsu et al. 2018 report for this network)
    ("joint", ContinualConfig(method="joint"), ">= 97.5%", "97.5%"),
    ("fine-tune", ContinualConfig(method="finetune"), "<= 25%", "19.7%"),
    ("replay 50/digit", ContinualConfig(method="replay", buffer_per_class=50), ">= 85%", "-"),
    ("replay 200/digit", ContinualConfig(method="replay", buffer_per_class=200), ">= 90%", "90.8% (1,100 digits)"),
    ("EWC", ContinualConfig(method="ewc"), "as it is", "19.8%"),
    ("LwF", ContinualConfig(method="lwf"), "as it is", "24.2%"),
    ("EWC, task known", ContinualConfig(method="ewc", scenario="task"), ">= 95%", "97.7%"),
    ("fine-tune, task known", ContinualConfig(method="finetune", scenario="task"), "as it is", "97.0%"),
]


def first_cell_through_the_runner(data) -> tuple[float, float]:
    """(seconds from start() to the first matrix row, to the end) for a replay run in a child process."""
    warm_forkserver()
    time.sleep(8)  # the fork server has imported TensorFlow, as when the Remember page has been open a moment
    job = Job(run, (ContinualConfig(), data), memory_mb=MEMORY_MB + MEMORY_HEADROOM_MB)
    start = time.monotonic()
    job.start()
    first = None
    while job.running:
        if first is None and job.progress is not None and job.progress.result.tasks_done >= 1:
            first = time.monotonic() - start
        time.sleep(0.05)
    return first, time.monotonic() - start


def main(class_only: bool) -> None:
    data = load_mnist()
    first, whole = first_cell_through_the_runner(data)
    print(
        f"Through the job runner (replay 50/digit): first matrix row {first:.1f} s after start (target <= 10 s), "
        f"whole run {whole:.1f} s (target <= 60 s)\n"
    )
    print(
        f"{'method':24s} {'average':>8s} {'forgetting':>11s} {'seconds':>8s}  {'vs joint':>8s}  target      Hsu et al."
    )
    baseline = None
    for label, config, target, published in RUNS:
        if class_only and config.scenario == "task":
            continue
        result = run(config, data)
        baseline = baseline or result.average_accuracy
        print(
            f"{label:24s} {result.average_accuracy:8.1%} {result.forgetting:11.1%} {result.seconds:8.1f}  "
            f"{result.average_accuracy / baseline:8.2f}  {target:11s} {published}",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-only", action="store_true", help="skip the task-incremental runs")
    main(parser.parse_args().class_only)
