"""A room arriving on each chapter at once, and a hall of phones following a presenter, as the server answers them.

Run from the repository root:
  python -m bench.followers                        # each chapter, 50 phones at once (about 2 minutes on 2 cores)
  python -m bench.followers --part hall            # a hall: this code against the code before issue 49 (~15 min)
  python -m bench.followers --part servers         # 150 phones on each of two servers behind Caddy (~5 min)

Chapters (`--crowd 50`):

For each chapter of the talk, on a fresh server: one protocol visitor (harness/visitor.py) opens the chapter's page
5 times (median: its cost alone, warm), then `--crowd` visitors open it at the same moment, as phones following the
presenter do: the time until each has its whole page (p50, p95). The baseline of the same run is the Room page, the
cheapest chapter: the ratio says what a chapter costs the room beyond the frame every page shares. bench/talk.py
measures the same followers through the presenter's Next, in a browser.

Hall (`--followers 150 300`, `--baseline REV`): on one server started with DIGITLAB_MEMORY_LIMIT=2.7GB
DIGITLAB_CPUS=2, for this checkout and for REV's (a git worktree; by default the last commit before issue 49) in the
same run: a protocol presenter holding the key, N following phones (`?follow=1`, each doing what its browser does:
its timers' reruns, and whatever run the server sends), and a visitor drawing a digit every second on the Draw page.
- Idle: the server's process tree's CPU over 20 s (cores), and the drawing's round trip (p50, p95) meanwhile.
- Move (twice: Draw to Evaluate, Evaluate to Remember): the presenter's Next until its page has run; each phone's
  wait from the press until its new chapter's page has run (p50, p95, the last); the server's CPU from the press
  until the last phone is there, less the idle rate, per phone (ms); the drawing's round trip meanwhile (p95).
Targets (issue 49): idle 300 phones <= 0.05 cores with a push; drawing p95 <= 100 ms beside them; a move <= 25 ms
of server CPU a phone; 150 phones within 3 s p95, 300 within 6 s; the presenter's page within 1 s; the drawing p95
<= 300 ms during the move.

Servers (`--followers 150`): the same hall on two servers of this checkout behind Caddy sharing a stage file, N
phones on each; the bench's own CPU is reported (it shares the machine's cores with the servers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from core import talk
from core.runs.host import family
from harness.browser import ROOT, running_app, serving_app, serving_apps_behind_proxy
from harness.visitor import Visitor

BEFORE = "b599d9a"  # the last commit before issue 49 (a hall of 300 phones)
KEY = "bench-hall"
HALL = {"DIGITLAB_MEMORY_LIMIT": "2.7GB", "DIGITLAB_CPUS": "2", "DIGITLAB_PRESENTER_KEY": KEY}
TALK = "draw,evaluate,remember"
KEY_LABEL = "Presenter key: phones that joined follow your chapters"


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


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:  # gone meanwhile
            continue
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU seconds so far: the load generator's own cost, on the same cores as the servers."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quantile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


class Hall:
    """A presenter, `count` following phones and a drawing visitor on the server(s) at `url`; `pids()` the servers'
    process trees."""

    def __init__(self, url: str, count: int, pids) -> None:
        self.url, self.count, self.pids = url, count, pids
        self.drawings: list[tuple[float, float]] = []  # (when it began, round trip s)
        self.phones: list[Visitor] = []

    async def _draw(self) -> None:
        async with Visitor(self.url) as visitor:
            for turn in range(10**6):
                started = time.perf_counter()
                await visitor.draw("3" if turn % 2 else "7")
                self.drawings.append((started, time.perf_counter() - started))
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))

    def drawn(self, since: float, until: float) -> tuple[float, float]:
        times = [took for began, took in self.drawings if since <= began <= until]
        return quantile(times, 0.5), quantile(times, 0.95)

    async def _join(self) -> None:
        for start in range(0, self.count, 20):  # phones arrive by the score, not all in one instant
            batch = [Visitor(self.url, query="follow=1") for _ in range(min(20, self.count - start))]
            await asyncio.gather(*(phone.open() for phone in batch))
            self.phones += batch

    async def run(self) -> dict:
        presenter = Visitor(self.url, query=f"talk=1&chapters={TALK}")
        await presenter.open()
        await presenter.type(KEY_LABEL, KEY)
        tasks, result = [asyncio.create_task(self._draw())], {}
        try:
            await asyncio.sleep(3)
            result["no phones cores"] = await self._cores(10)  # the drawing alone: what the phones add is the rest
            await self._join()
            tasks += [asyncio.create_task(phone.watch(3600)) for phone in self.phones]
            await asyncio.sleep(5)  # the joining's last runs end
            began = time.perf_counter()
            idle = await self._cores(20)
            result["idle cores"], result["idle drawing"] = idle, self.drawn(began, time.perf_counter())
            for number, chapter in enumerate(("evaluate", "remember")):
                result[f"move {number + 1}"] = await self._move(presenter, chapter, idle)
                await asyncio.sleep(3)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for phone in [presenter, *self.phones]:
                await phone.close()
        return result

    async def _cores(self, seconds: float) -> float:
        """The servers' CPU over the next `seconds`, in cores."""
        began, used = time.perf_counter(), cpu_seconds(self.pids())
        await asyncio.sleep(seconds)
        return (cpu_seconds(self.pids()) - used) / (time.perf_counter() - began)

    async def _move(self, presenter: Visitor, chapter: str, idle: float) -> dict:
        used, pressed, mine = cpu_seconds(self.pids()), time.perf_counter(), own_cpu_seconds()
        await presenter.press("Next")
        presenter_s = time.perf_counter() - pressed
        deadline = pressed + 60
        while time.perf_counter() < deadline and not all(_arrived(p, chapter, pressed) for p in self.phones):
            await asyncio.sleep(0.05)
        took = time.perf_counter() - pressed
        server = cpu_seconds(self.pids()) - used - idle * took
        bench = (own_cpu_seconds() - mine) / took
        waits = [_arrived(phone, chapter, pressed) or float("inf") for phone in self.phones]
        return {
            "presenter s": presenter_s,
            "p50 s": quantile(waits, 0.5),
            "p95 s": quantile(waits, 0.95),
            "last s": max(waits),
            "ms a phone": 1000 * server / self.count,
            "drawing p95 s": self.drawn(pressed, pressed + took)[1],
            "bench cores": bench,
        }


def _arrived(phone: Visitor, chapter: str, since: float) -> float | None:
    """Seconds from `since` until the phone's page for `chapter` had run (None: not yet)."""
    return next((at - since for at, path in phone.finished if at > since and path.endswith(chapter)), None)


def _report(label: str, result: dict) -> None:
    idle_p50, idle_p95 = result["idle drawing"]
    phones = result["idle cores"] - result["no phones cores"]
    print(
        f"{label}: idle {result['idle cores']:.3f} cores, of which the phones {phones:.3f} (the drawing and presenter "
        f"alone {result['no phones cores']:.3f}); drawing p50 {idle_p50 * 1000:.0f} ms p95 {idle_p95 * 1000:.0f} ms"
    )
    for move in ("move 1", "move 2"):
        row = result[move]
        print(
            f"  {move}: presenter {row['presenter s']:.2f} s; phones p50 {row['p50 s']:.2f} s, p95 "
            f"{row['p95 s']:.2f} s, last {row['last s']:.2f} s; {row['ms a phone']:.1f} ms of server CPU a phone; "
            f"drawing p95 {row['drawing p95 s'] * 1000:.0f} ms; the bench itself {row['bench cores']:.2f} cores"
        )


def hall(counts: list[int], baseline: str) -> None:
    checkout = Path(tempfile.mkdtemp(prefix="digitlab-before-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(checkout), baseline], cwd=ROOT, check=True)
    try:
        for count in counts:
            for label, root in ((f"before ({baseline})", checkout), ("now", ROOT)):
                with serving_app(env=HALL, root=root) as (url, server):
                    result = asyncio.run(Hall(url, count, lambda server=server: family(server.pid)).run())
                _report(f"{count} phones, {label}", result)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False)


def servers(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = HALL | {"DIGITLAB_STAGE": str(Path(folder) / "stage")}
        with serving_apps_behind_proxy(2, env=env) as (url, processes):
            pids = lambda: [pid for process in processes.values() for pid in family(process.pid)]  # noqa: E731
            hall = Hall(url, 2 * count, pids)
            result = asyncio.run(hall.run())
    _report(f"{2 * count} phones on two servers", result)
    split = Counter(phone.servers[-1] if phone.servers else "?" for phone in hall.phones)
    print("  phones on each server (Caddy's cookie policy places a new visitor at random):", dict(split))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("chapters", "hall", "servers"), default="chapters")
    parser.add_argument("--crowd", type=int, default=50)
    parser.add_argument("--followers", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--baseline", default=BEFORE)
    args = parser.parse_args()
    if args.part == "hall":
        hall(args.followers, args.baseline)
    elif args.part == "servers":
        servers(args.followers[0])
    else:
        with running_app() as url:
            asyncio.run(_measure(url, args.crowd))


if __name__ == "__main__":
    main()
