"""What one hostile visitor costs everyone else: each row of the hostile rounds' tables re-measured on a real server.

Run from the repository root: `python -m bench.hostile` (about 20 minutes on 2 cores; `--rows` picks some). One
server with Community Cloud's limits (DIGITLAB_MEMORY_LIMIT=2.7GB, DIGITLAB_CPUS=2), started as the README does;
visitors play client addresses as a local proxy sends them (X-Forwarded-For). Through every row a second visitor
(the prober, harness/visitor.py) draws a digit every 0.3 s and times its round trip (the canvas's value sent -> the
Prediction back); the server's whole process tree (the server, the process runs fork from, every run) is sampled
every 0.1 s (PSS). Each row is compared with the same prober on the same server left idle, in the same run:

- picture bomb: a 0.16 MB canvas value holding an 11,000 x 11,000 PNG; then three sessions sending 9,000 x 9,000;
- heavy model: a model of 0.88 M activations per digit (within the limit) uploaded, then the Attack page, whose
  robustness curves take gradients on 1,000 digits;
- 12 uploads of a 15 MB model, then the visitor leaves: memory held afterwards;
- 60 Room viewers of a full wall: the server's CPU;
- one client opening a new session for every share, 8 at a time: shares onto the wall per second, and whether an
  honest sharer from another address gets on;
- 12 engines asked at once from one address: the tree's peak PSS (the budget is 2.16 GB), whether all finish, and a
  Quick run asked afterwards: the start it was promised and the start it got;
- a guessing storm, 35 wrong presenter keys from 7 sessions: whether the right key, typed from the same address
  right after, still works;
- 6 private runs parked from one address: an honest Quick run's place, the start it was promised and got;
- a poisoned wall, 100 hooked 1s marked "I meant 7" from one address: a victim's engine report (MNIST's test digits
  by class, which readings changed) with the defence on and off;
- a markdown chapter list and a NaN seed: shown as text, and a sentence with the default.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import statistics
import threading
import time

import keras
from keras import layers
from streamlit.proto.WidgetStates_pb2 import WidgetState

from core.room import SHARE_EVERY_SECONDS
from core.runs.host import family, memory_mb
from harness import hostile
from harness.browser import serving_app
from harness.visitor import Visitor

PROBE_EVERY = 0.3  # seconds between the prober's drawings
LIMITS = {
    "DIGITLAB_MEMORY_LIMIT": "2.7GB",
    "DIGITLAB_CPUS": "2",
    "DIGITLAB_PRESENTER_KEY": "bench-presenter-key",
    "DIGITLAB_MAX_TRAIN_SECONDS": "150",  # parked private runs end within minutes, so the row does too
}
ATTACKER, HONEST = "203.0.113.7", "198.51.100.20"  # documentation addresses: one hostile client, one honest


class Sampler:
    """The server tree's PSS every 0.1 s and its CPU seconds, while running."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self.running = pid, [], True
        self.start_mb, self.start_cpu = memory_mb(family(pid)), cpu_seconds(pid)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            self.samples.append(memory_mb(family(self.pid)))
            time.sleep(0.1)

    def stop(self) -> tuple[float, float]:
        """(peak MB above the start, CPU seconds used)."""
        self.running = False
        self.thread.join()
        self.peak_mb = max(self.samples + [self.start_mb])
        return self.peak_mb - self.start_mb, cpu_seconds(self.pid) - self.start_cpu


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in family(pid):
        try:
            fields = open(f"/proc/{member}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


async def probe(url: str, stop: asyncio.Event, times: list[float]) -> None:
    """Another visitor drawing a 7 and a 1 in turn until `stop`: each round trip in seconds."""
    async with Visitor(url) as visitor:
        digits = "71"
        while not stop.is_set():
            run = await visitor.draw(digits[len(times) % 2])
            if "Prediction" in run.metric_at:
                times.append(run.metric_at["Prediction"] - run.sent)
            await asyncio.sleep(PROBE_EVERY)


async def row(url: str, pid: int, name: str, action, *, settle: float = 2.0) -> dict:
    """Run `action` while the prober draws; the server's peak and held memory, CPU, and the prober's times."""
    stop, times = asyncio.Event(), []
    prober = asyncio.create_task(probe(url, stop, times))
    await asyncio.sleep(1.0)
    sampler = Sampler(pid)
    server_before = memory_mb([pid])
    started = time.perf_counter()
    detail = await action()
    seconds = time.perf_counter() - started
    await asyncio.sleep(settle)
    peak, cpu = sampler.stop()
    held = memory_mb(family(pid)) - sampler.start_mb
    held_server = memory_mb([pid]) - server_before  # the tree less the process runs fork from, when it started
    stop.set()
    await prober
    ordered = sorted(times)
    result = {
        "row": name,
        "peak_mb": peak,
        "tree_peak_mb": sampler.peak_mb,
        "held_mb": held,
        "held_server_mb": held_server,
        "seconds": seconds,
        "cores": cpu / (seconds + settle),
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
        "readings": len(ordered),
        "detail": detail or "",
    }
    print(
        f"{name:34s} tree peak {sampler.peak_mb:5.0f} MB ({peak:+5.0f})  "
        f"held {held:+5.0f} MB (server {held_server:+5.0f})  "
        f"{result['cores']:.2f} cores  another visitor: "
        f"p50 {result['p50_ms']:4.0f} ms  p95 {result['p95_ms']:5.0f} ms  max {result['max_ms']:5.0f} ms "
        f"({len(ordered)})  {result['detail']}"
    )
    return result


def fifteen_mb_model() -> bytes:
    return hostile.keras_file(
        keras.Sequential(
            [
                keras.Input((28, 28)),
                layers.Flatten(),
                layers.Dense(4_800, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ]
        )
    )


async def main(seconds: float, rows: list[str]) -> None:
    with serving_app(env=LIMITS) as (url, server):
        pid = server.pid
        async with Visitor(url) as warm:  # TensorFlow and the model loaded, as after the first visitor
            await warm.draw("7")
        actions = _actions(url, seconds)
        chosen = [name for name in actions if not rows or any(word in name for word in rows)]
        print(f"Each row with another visitor drawing every {PROBE_EVERY} s; memory is the whole tree's PSS.")
        for name in ["idle (baseline)", *chosen, "idle again"]:
            await row(url, pid, name, actions.get(name, actions["idle (baseline)"]))


def _actions(url: str, seconds: float) -> dict:
    """Each row's hostile visitor (and the honest one it hurts), by name."""

    async def idle():
        await asyncio.sleep(seconds)

    async def picture_bomb():
        bomb = hostile.canvas_value_with(hostile.picture_bomb(11_000))
        async with Visitor(url) as visitor:
            await visitor.draw("7")
            run = await visitor.rerun(widgets=[_canvas(visitor, bomb)], fragment=visitor.canvas[1])
            refused = any("did not come from" in text for text in run.texts)
        visitors = [Visitor(url) for _ in range(3)]
        for visitor in visitors:
            await visitor.open()
            await visitor.rerun(
                widgets=[_canvas(visitor, hostile.canvas_value_with(hostile.picture_bomb(9_000)))],
                fragment=visitor.canvas[1],
            )
        for visitor in visitors:  # they stay connected while the memory settles
            await visitor.close()
        return "refused" if refused else "ACCEPTED"

    async def heavy_model():
        async with Visitor(url) as visitor:
            await visitor.upload("A .keras file", "heavy.keras", hostile.keras_file(hostile.memory_heavy()))
            await visitor.rerun(page_name="")
            run = await visitor.visit("attack")
            return "; ".join(text for text in run.texts if "heavy" in text.lower())[:80] or "curves drawn"

    async def uploads():
        data = fifteen_mb_model()
        async with Visitor(url) as visitor:
            for number in range(12):
                await visitor.upload("A .keras file", f"net{number}.keras", data)
                await visitor.rerun(page_name="")
        await asyncio.sleep(90)  # the visitor has gone: their models go after 60 s (ui/session.py's sweep)
        return f"{len(data) / 2**20:.1f} MB each"

    async def room_viewers():
        async with Visitor(url) as sharer:
            await sharer.draw("7")
            for _ in range(4):
                await sharer.press("Share with the room")
                await asyncio.sleep(SHARE_EVERY_SECONDS + 0.1)
        viewers = [Visitor(url, path="room") for _ in range(60)]
        for viewer in viewers:
            await viewer.open()
        await asyncio.gather(*(viewer.watch(seconds) for viewer in viewers))
        for viewer in viewers:
            await viewer.close()
        return "60 viewers"

    async def flood():
        shared, started = 0, time.perf_counter()
        while time.perf_counter() < started + 3 * seconds:
            shared += sum(await asyncio.gather(*(_share(url, ATTACKER, "1") for _ in range(8))))
        rate = shared / (time.perf_counter() - started)
        honest = await _share(url, HONEST, "7")
        return f"{shared} shares, {rate:.2f}/s from one client (burst 20, then 1/s); honest sharer got on: {honest}"

    async def engines():
        await _clear_wall(url)
        await asyncio.gather(*(_share(url, f"192.0.2.{n + 1}", "7") for n in range(10)))
        started = time.perf_counter()
        ends = await asyncio.gather(*(_engine(url, ATTACKER) for _ in range(12)))
        finished = sum(outcome for outcome, _ in ends)
        waits = sorted(seconds for _, seconds in ends)
        quick = await _quick_run(url, HONEST)
        return (
            f"{finished}/12 finished in {time.perf_counter() - started:.0f} s (last {waits[-1]:.0f} s); "
            f"then a Quick run: {quick}"
        )

    async def guessing():
        async def guesser(number: int) -> None:
            async with Visitor(url, path="room", address=ATTACKER) as visitor:
                for guess in range(5):
                    await visitor.type("Presenter key", f"wrong {number}-{guess}")

        started = time.perf_counter()
        await asyncio.gather(*(guesser(number) for number in range(7)))
        storm = time.perf_counter() - started
        async with Visitor(url, path="room", address=ATTACKER) as presenter:
            run = await presenter.type("Presenter key", LIMITS["DIGITLAB_PRESENTER_KEY"])
            accepted = "Clear the wall" in presenter.buttons and not run.errors
        return (
            f"35 wrong keys in {storm:.1f} s; the presenter's key right after: {'ACCEPTED' if accepted else 'REFUSED'}"
        )

    async def parked():
        tabs = [Visitor(url, path="privacy", address=ATTACKER) for _ in range(6)]
        for tab in tabs:
            await tab.open()
            await tab.press("Train privately")
        try:
            return "6 private runs parked; an honest Quick run: " + await _quick_run(url, HONEST)
        finally:
            for tab in tabs:  # their runs stop once they have been gone ABANDONED_SECONDS
                await tab.close()

    async def poisoned():
        await _clear_wall(url)
        planted = await _plant(url, ATTACKER, 100)
        reports = []
        for defend in (True, False):
            async with Visitor(url, path="data", query="part=engine", address=HONEST) as victim:
                toggle = next(label for label in victim.inputs if label.startswith("Leave out suspect"))
                pressed = await victim.press("Run the engine", inputs={toggle: defend})
                run = await victim.rerun(page_name="data", query="part=engine")
                worst = next((f"{k}: {v}" for k, v in run.metrics.items() if "lost most" in k), None)
                refused = [text for text in pressed.texts if "are left once suspect" in text]
                changed = [text for text in run.texts if "are now read as" in text]
                said = changed[0] if changed else "no test digit read differently by 5 or more"
                outcome = f"{worst}; {said}" if worst else (refused[0][:90] if refused else "no report")
                reports.append(f"defence {'on' if defend else 'off'}: {outcome}")
        return f"{planted} planted; " + " | ".join(reports)

    async def markdown_and_nan():
        visitor = Visitor(url, query="talk=1&chapters=![](//0x7f000001/x),[click me](//ev.il)")
        run = await visitor.open()
        await visitor.close()
        escaped = not any("![](" in text or "[click me](" in text for text in run.texts)
        async with Visitor(url, path="train") as visitor:
            run = await visitor.type("Seed", math.nan)
        nan = not run.errors and any("does not offer" in text for text in run.texts)
        return f"chapter list {'escaped' if escaped else 'RENDERED'}; NaN seed {'the default' if nan else 'FAILED'}"

    return {
        "idle (baseline)": idle,
        "picture bomb": picture_bomb,
        "heavy model on Attack": heavy_model,
        "12 uploads of 15 MB, then gone": uploads,
        "60 Room viewers of a full wall": room_viewers,
        "one client, new sessions, wall": flood,
        "12 engines at once": engines,
        "guessing storm, then the key": guessing,
        "6 parked private runs": parked,
        "a poisoned wall": poisoned,
        "markdown link, NaN seed": markdown_and_nan,
    }


async def _share(url: str, address: str, digit: str, meant: str | None = None) -> bool:
    """A fresh session from `address` draws `digit` and shares it (as `meant`): whether the wall took it."""
    async with Visitor(url, address=address) as visitor:
        await visitor.draw(digit)
        run = await visitor.press("Share with the room", inputs={"I meant": meant or digit})
        return any("Shared with the room" in text for text in run.texts)


async def _clear_wall(url: str) -> None:
    async with Visitor(url, path="room") as presenter:
        await presenter.type("Presenter key", LIMITS["DIGITLAB_PRESENTER_KEY"])
        await presenter.press("Clear the wall")


async def _plant(url: str, address: str, count: int) -> int:
    """`count` hooked 1s marked "I meant 7" from one address, by as many sessions as it takes, 10 at a time."""
    planted = 0
    while planted < count:
        shared = await asyncio.gather(*(_share(url, address, "1", "7") for _ in range(min(10, count - planted))))
        planted += sum(shared)
        if not all(shared):
            await asyncio.sleep(1.0)  # the address's rate: one a second past its burst
    return planted


async def _engine(url: str, address: str) -> tuple[bool, float]:
    """A session runs the data engine: (whether it finished, seconds until it did)."""
    started = time.perf_counter()
    async with Visitor(url, path="data", query="part=engine", address=address) as visitor:
        await visitor.press("Run the engine")
        run = await visitor.rerun(page_name="data", query="part=engine")
        return any("Added engine" in text for text in run.texts), time.perf_counter() - started


async def _quick_run(url: str, address: str) -> str:
    """An honest visitor presses Train (the Quick preset): its place, the start promised, the start it got."""
    async with Visitor(url, path="train", address=address) as visitor:
        pressed = time.perf_counter()
        run = await visitor.press("Train")
        words = next((text for text in run.texts if "in line" in text), "")
        promised = _seconds(words)
        while not any("Epoch" in text for text in run.texts):
            runs = await visitor.watch(1.0)
            run = runs[-1] if runs else run
            if time.perf_counter() - pressed > 1_800:
                return f"{words[:60]}… not started after 30 min"
        got = time.perf_counter() - pressed
        if not words:
            return f"started at once ({got:.0f} s to its first step)"
        place = re.search(r"number (\d+) in line", words, re.IGNORECASE)
        ratio = got / max(promised, 5.0)
        number = place.group(1) if place else "?"
        return f"number {number}, promised {promised:.0f} s, started after {got:.0f} s ({ratio:.2f}x)"


def _seconds(words: str) -> float:
    """The start a waiting message promised, in seconds."""
    minutes = re.search(r"about (\d+) min", words)
    seconds = re.search(r"about (\d+) s", words)
    return 60.0 * int(minutes.group(1)) if minutes else float(seconds.group(1)) if seconds else 0.0


def _canvas(visitor: Visitor, value: str) -> WidgetState:
    return WidgetState(id=visitor.canvas[0], json_value=value)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the idle, viewer and flood rows")
    parser.add_argument("--rows", nargs="*", default=[], help="rows whose names hold one of these words (all: none)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.rows))
