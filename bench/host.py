"""Does the app fit Streamlit Community Cloud? The worst legal use of a 2.7 GB host, and honest estimates.

    python -m bench.host                # both parts, about 15 minutes on 2 cores
    python -m bench.host --part memory  # or --part estimates

Memory: the app is started as the README does, with DIGITLAB_MEMORY_LIMIT=2.7G and DIGITLAB_IDLE_SECONDS=60, and
driven by protocol visitors (harness/visitor.py) through a scripted worst case: 30 visitors drawing all
along; two visitors each starting the largest training the Train page allows (the `accurate` preset); a third
uploading a model; a fourth running the Compress page's quantization and the Trust page's stress test on the
heaviest model the upload check accepts. The server's whole process tree is sampled every 0.5 s (PSS and RSS) and
its peak set against the limit; then, with every visitor gone, the idle footprint once the app has been idle.
Baseline in the same run: the tree after the first visitor's first reading. Targets: peak <= 2.16 GB PSS and
<= 2.7 GB RSS, idle <= 0.9 GB PSS, a drawing's round trip p95 <= 500 ms throughout.

Estimates: every preset trains through the job runner, alone and then beside a second run, and its estimate (as the
line and the Train page give it, counting the runs going) is set against its measured time. Targets: the median of
estimate / actual in [0.75, 1.35], no run off by more than 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import threading
import time

from core.runs.host import family, memory_mb, parse_size
from core.training.config import PRESETS
from core.training.links import config_to_params
from harness import hostile
from harness.browser import serving_app
from harness.visitor import Visitor

LIMIT = "2.7G"


class Tree:
    """PSS and RSS of the server's process tree every 0.5 s, each sample with its time."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self.running = pid, [], True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            members = family(self.pid)
            self.samples.append((time.monotonic(), memory_mb(members), memory_mb(members, field="Rss")))
            time.sleep(0.5)

    def stop(self) -> None:
        self.running = False
        self.thread.join()


async def drawers(url: str, count: int, stop: asyncio.Event, times: list[float]) -> None:
    async def one(index: int) -> None:
        async with Visitor(url) as visitor:
            await asyncio.sleep(index * 5 / count)  # spread over the 5 s between drawings
            while not stop.is_set():
                run = await visitor.draw("7" if len(times) % 2 else "1")
                if "Prediction" in run.metric_at:
                    times.append(run.metric_at["Prediction"] - run.sent)
                await asyncio.sleep(5.0)

    await asyncio.gather(*(one(index) for index in range(count)))


async def trainer(url: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in config_to_params(PRESETS["accurate"]).items())
    async with Visitor(url, path="train", query=query) as visitor:
        started = await visitor.press("Train")
        said = [text for text in started.texts + started.errors if "line" in text or "GB" in text]
        await visitor.watch(240)  # watches its progress for four minutes, then leaves (the run goes on, then stops)
        return said[0][:90] if said else "started"


async def uploader(url: str) -> str:
    async with Visitor(url) as visitor:
        await visitor.upload("A .keras file", "heavy.keras", hostile.keras_file(hostile.memory_heavy()))
        run = await visitor.rerun(page_name="")
        return "uploaded" if any("upload 1" in text for text in run.texts) else "checked"


async def heavy_pages(url: str) -> str:
    async with Visitor(url) as visitor:
        await visitor.upload("A .keras file", "heavy.keras", hostile.keras_file(hostile.memory_heavy()))
        await visitor.rerun(page_name="")
        await visitor.visit("trust")
        trust = await visitor.press("Run the stress test")
        await visitor.visit("compress")
        compress = await visitor.press("Quantize")
        await visitor.watch(60)
        return f"trust {len(trust.errors)} errors, compress {len(compress.errors)} errors"


async def memory_part(visitors: int) -> None:
    limit_mb = parse_size(LIMIT) / 2**20
    env = {"DIGITLAB_MEMORY_LIMIT": LIMIT, "DIGITLAB_IDLE_SECONDS": "60"}
    with serving_app(env=env) as (url, server):
        async with Visitor(url) as first:
            await first.draw("7")
        baseline = memory_mb(family(server.pid))
        print(f"After the first visitor's first reading: {baseline:.0f} MB PSS")
        tree, stop, times = Tree(server.pid), asyncio.Event(), []
        crowd = asyncio.create_task(drawers(url, visitors, stop, times))
        await asyncio.sleep(5)
        results = await asyncio.gather(trainer(url), trainer(url), uploader(url), heavy_pages(url))
        stop.set()
        await crowd
        busy = list(tree.samples)
        print("Worst case:", "; ".join(results))
        # Every visitor gone: their runs stop 30 s later, and DIGITLAB_IDLE_SECONDS after that the process runs
        # fork from is stopped. Wait for it (at most five minutes), then measure.
        gone = time.monotonic()
        while len(family(server.pid)) > 1 and time.monotonic() - gone < 300:
            await asyncio.sleep(5)
        tree.stop()
        idle, idle_after = memory_mb(family(server.pid)), time.monotonic() - gone
    peak_pss, peak_rss = max(s[1] for s in busy), max(s[2] for s in busy)
    ordered = sorted(times)
    print(
        f"Peak of the whole tree: {peak_pss:.0f} MB PSS, {peak_rss:.0f} MB RSS, against a limit of {limit_mb:.0f} MB "
        f"(budget {0.8 * limit_mb:.0f} MB): {peak_pss / limit_mb:.0%} and {peak_rss / limit_mb:.0%} of the limit"
    )
    print(
        f"Idle afterwards ({idle_after:.0f} s after the last visitor left): {idle:.0f} MB PSS "
        f"(baseline after the first reading: {baseline:.0f} MB)"
    )
    p50 = 1000 * statistics.median(ordered)
    print(
        f"{visitors} visitors drawing every 5 s meanwhile: round trip p50 {p50:.0f} ms, "
        f"p95 {1000 * ordered[int(0.95 * (len(ordered) - 1))]:.0f} ms, max {1000 * ordered[-1]:.0f} ms "
        f"({len(ordered)} readings)"
    )


def estimates_part() -> None:
    from core.pictures.data import load_mnist
    from core.runs.child import warm_forkserver
    from core.training.job import TrainingJob

    data = load_mnist()
    warm_forkserver()
    ratios = []

    def run(config, label: str, beside=None) -> None:
        job = TrainingJob(config, data, max_seconds=900, owner=label)
        started = time.monotonic()
        job.start()
        while job.running:
            time.sleep(0.2)
        actual = time.monotonic() - started
        ratios.append(job.expected_seconds / actual)
        print(
            f"  {label:42s} estimate {job.expected_seconds:6.0f} s  actual {actual:6.0f} s  "
            f"estimate/actual {job.expected_seconds / actual:.2f}"
        )

    presets = {name: config for name, config in PRESETS.items()}
    presets["accurate, 1 epoch"] = dataclasses.replace(PRESETS["accurate"], epochs=1)
    del presets["accurate"]  # eight minutes alone; its one-epoch cut measures the same rates
    print("Each preset alone:")
    for name, config in presets.items():
        run(config, name)
    print("Each preset beside a second run (the quick preset, started first):")
    for name, config in presets.items():
        other = TrainingJob(PRESETS["quick"], data, max_seconds=900, owner="other")
        other.start()
        while other.progress is None:
            time.sleep(0.1)
        run(config, f"{name}, beside another")
        other.stop()
        while other.running:
            time.sleep(0.1)
    print(
        f"estimate/actual: median {statistics.median(ratios):.2f}, range {min(ratios):.2f}–{max(ratios):.2f} "
        f"over {len(ratios)} runs"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["memory", "estimates", "both"], default="both")
    parser.add_argument("--visitors", type=int, default=30)
    args = parser.parse_args()
    if args.part in ("memory", "both"):
        asyncio.run(memory_part(args.visitors))
    if args.part in ("estimates", "both"):
        estimates_part()
