"""A room arriving on each chapter at once: fifty phones' page runs, as the server answers them.

Run from the repository root: `python -m bench.followers` (about 2 minutes on 2 cores; `--crowd 50` by default).

For each chapter of the talk, on a fresh server: one protocol visitor (harness/visitor.py) opens the chapter's page
5 times (median: its cost alone, warm), then `--crowd` visitors open it at the same moment, as phones following the
presenter do: the time until each has its whole page (p50, p95). The baseline of the same run is the Room page, the
cheapest chapter: the ratio says what a chapter costs the room beyond the frame every page shares. bench/talk.py
measures the same followers through the presenter's Next, in a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from core import talk
from harness.browser import running_app
from harness.visitor import Visitor


def _address(chapter: talk.Chapter) -> tuple[str, str]:
    path = chapter.page.split("/")[-1].removesuffix(".py")
    return path, "&".join(f"{key}={value}" for key, value in {"chapter": chapter.id, **chapter.state}.items())


async def _alone(url: str, chapter: talk.Chapter) -> tuple[float, list[str]]:
    path, query = _address(chapter)
    async with Visitor(url, query=query) as visitor:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            run = await visitor.visit(path)
            times.append(time.perf_counter() - started)
    return statistics.median(times), run.errors


async def _crowd(url: str, chapter: talk.Chapter, count: int) -> list[float]:
    path, query = _address(chapter)
    visitors = [Visitor(url, query=query) for _ in range(count)]
    for visitor in visitors:
        await visitor.__aenter__()
    try:
        started = time.perf_counter()

        async def arrive(visitor: Visitor) -> float:
            await visitor.visit(path)
            return time.perf_counter() - started

        return sorted(await asyncio.gather(*(arrive(visitor) for visitor in visitors)))
    finally:
        for visitor in visitors:
            await visitor.close()


async def _measure(url: str, count: int) -> None:
    rows = []
    for chapter in talk.CHAPTERS:
        alone, errors = await _alone(url, chapter)
        waits = await _crowd(url, chapter, count)
        rows.append((chapter.id, alone, waits[len(waits) // 2], waits[int(0.95 * (len(waits) - 1))], errors))
    baseline = next(row[3] for row in rows if row[0] == "room")
    print(f"{'chapter':>10} | alone, ms | {count} at once: p50 s | p95 s | p95 × Room's")
    for chapter, alone, p50, p95, errors in rows:
        flaw = f"  {errors[0]}" if errors else ""
        print(f"{chapter:>10} | {alone * 1000:9.0f} | {p50:18.2f} | {p95:5.2f} | {p95 / baseline:5.1f}{flaw}")
    print(f"worst p95 {max(row[3] for row in rows):.2f} s; target: every phone on the new chapter within 2 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crowd", type=int, default=50)
    args = parser.parse_args()
    with running_app() as url:
        asyncio.run(_measure(url, args.crowd))


if __name__ == "__main__":
    main()
