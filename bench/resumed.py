"""Phones that came back: what sessions resumed after a dropped connection cost the server's event loop.

Run from the repository root: `python -m bench.resumed` (about 1 minute on 2 cores; `--phones 25`, `--rounds 3`).

A phone's screen locks, or the hall's wifi drops: its browser reconnects and Streamlit resumes the session. Streamlit
gives a resumed session a source watcher even with `server.fileWatcherType = "none"`, which then walks every loaded
module's path on the event loop after each run that follows an import anywhere on the server (ui/session.py,
`keep_file_watchers_off`). Each round, on a fresh server: `--phones` phones open Draw and stay (the baseline), as
many open Draw and reconnect (resumed); another visitor opens Data for the first time (it imports scikit-learn and
cleanlab); then each group reruns its page at once, one group after the other (the baseline first in odd rounds, the
resumed phones first in even ones): the time until the last of each has its page, and the ratio resumed / baseline
(about 1 with the guard; without it, 21: 9.6–11.6 s against 0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from harness.browser import running_app
from harness.visitor import Visitor


async def _rerun_all(phones: list[Visitor]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(phone.rerun(page_name=phone.path) for phone in phones))
    return time.perf_counter() - started


async def _round(url: str, count: int, resumed_first: bool) -> tuple[float, float]:
    baseline, resumed = [Visitor(url) for _ in range(count)], [Visitor(url) for _ in range(count)]
    for phone in baseline + resumed:
        await phone.__aenter__()
    try:
        await asyncio.gather(*(phone.reconnect() for phone in resumed))
        async with Visitor(url) as other:
            run = await other.visit("data")
            if run.errors:
                raise RuntimeError(f"Data failed: {run.errors[:1]}")
        if resumed_first:
            late = await _rerun_all(resumed)
            return await _rerun_all(baseline), late
        return await _rerun_all(baseline), await _rerun_all(resumed)
    finally:
        for phone in baseline + resumed:
            await phone.close()


def main(count: int, rounds: int) -> None:
    results = []
    for number in range(1, rounds + 1):
        with running_app() as url:
            base, resumed = asyncio.run(_round(url, count, resumed_first=number % 2 == 0))
        results.append((base, resumed))
        print(f"round {number}: {count} phones rerun in {base:.2f} s; {count} resumed in {resumed:.2f} s", flush=True)
    ratios = [resumed / base for base, resumed in results]
    print(
        f"\nmedian over {rounds} rounds: baseline {statistics.median(b for b, _ in results):.2f} s, "
        f"resumed {statistics.median(r for _, r in results):.2f} s, ratio {statistics.median(ratios):.2f} "
        f"[{min(ratios):.2f}–{max(ratios):.2f}]"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=25, help="phones in each group")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a fresh server")
    args = parser.parse_args()
    main(args.phones, args.rounds)
