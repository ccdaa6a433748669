"""What one hostile visitor costs everyone else: each row of issue 26's table re-measured on a real server.

Run from the repository root: `python -m bench.hostile` (about 5 minutes on 2 cores). One server, started as the
README does. Through every row a second visitor (the prober, tests/streamlit_visitor.py) draws a digit every 0.3 s
and times its round trip (the canvas's value sent -> the Prediction back); the server's whole process tree (the
server, the process runs fork from, every run) is sampled every 0.1 s (PSS). Each row is compared with the same
prober on the same server left idle, in the same run:

- picture bomb: a 0.16 MB canvas value holding an 11,000 x 11,000 PNG; then three sessions sending 9,000 x 9,000;
- heavy model: a model of 0.88 M activations per digit (within the limit) uploaded, then the Attack page, whose
  robustness curves take gradients on 1,000 digits;
- 12 uploads of a 15 MB model, then the visitor leaves: memory held afterwards;
- 60 Room viewers of a full wall: the server's CPU;
- one client opening a new session for every share: shares onto the wall per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time

import keras
from keras import layers
from streamlit.proto.WidgetStates_pb2 import WidgetState

from core.room import CAPACITY
from core.runs.host import family, memory_mb
from harness import hostile
from harness.browser import serving_app
from harness.visitor import Visitor

PROBE_EVERY = 0.3  # seconds between the prober's drawings


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
        return max(self.samples + [self.start_mb]) - self.start_mb, cpu_seconds(self.pid) - self.start_cpu


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
        f"{name:34s} peak {peak:+5.0f} MB  held {held:+5.0f} MB (server {held_server:+5.0f})  "
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


async def main(seconds: float) -> None:
    with serving_app() as (url, server):
        pid = server.pid
        async with Visitor(url) as warm:  # TensorFlow and the model loaded, as after the first visitor
            await warm.draw("7")

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
                    await asyncio.sleep(3.1)
            viewers = [Visitor(url, path="room") for _ in range(60)]
            for viewer in viewers:
                await viewer.open()
            await asyncio.gather(*(viewer.watch(seconds) for viewer in viewers))
            for viewer in viewers:
                await viewer.close()
            return "60 viewers"

        async def flood():
            shared, started = 0, time.perf_counter()
            until = started + seconds
            while time.perf_counter() < until:
                async with Visitor(url) as visitor:
                    await visitor.draw("1")
                    run = await visitor.press("Share with the room")
                    shared += any("Shared with the room" in text for text in run.texts)
            return f"{shared / (time.perf_counter() - started):.2f} shares/s onto the wall (of {CAPACITY})"

        print(f"Each row with another visitor drawing every {PROBE_EVERY} s; memory is the whole tree's PSS.")
        for name, action in [
            ("idle (baseline)", idle),
            ("picture bomb", picture_bomb),
            ("heavy model on Attack", heavy_model),
            ("12 uploads of 15 MB, then gone", uploads),
            ("60 Room viewers of a full wall", room_viewers),
            ("one client, new sessions", flood),
            ("idle again", idle),
        ]:
            await row(url, pid, name, action)


def _canvas(visitor: Visitor, value: str) -> WidgetState:
    return WidgetState(id=visitor.canvas[0], json_value=value)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the idle, viewer and flood rows")
    asyncio.run(main(parser.parse_args().seconds))
