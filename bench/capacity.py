"""How many visitors one Digit Lab server holds: the most drawing a digit every ~5 s at round trip p95 <= 500 ms.

    python -m bench.capacity [--crowds 25,50,100,150,200] [--seconds 60] [--every 5] [--training] [--servers 2]
    python -m bench.capacity --validate      # against bench/load.py's Chromium visitors, 10 of each

Visitors are harness/visitor.py's: Streamlit's own WebSocket protocol, sending the canvas's value
as the component does, so a hundred of them cost this machine a few percent of one core instead of a
hundred browsers. Each crowd gets a fresh server. Baseline first, on that server: one visitor alone. Then
the crowd arrives over one drawing interval (so their drawings are spread out, as in a hall), each opening
the Draw page, then every ~`every` s (±20%) lifting the pen on a digit and, a second later, clearing the
canvas. The round trip is from sending the canvas's value to the delta with the Prediction showing the
drawn digit: what bench/load.py calls the round trip in a browser, without the browser's own drawing.
Readings count once the whole crowd has arrived. With `--training`, one more visitor starts a 20-epoch
training on the Train page before the crowd comes and watches its progress (a fragment rerun every second).

Memory per visitor: the server's PSS (with its training processes) with the crowd connected and drawing,
less its PSS just before the crowd came (after the first visitor, and the training if any), divided by
the crowd. CPU: the server's and this client's own.
Crowds are tried in order; the run stops after the first that misses the target. `--servers 2` runs two
servers on this machine behind Caddy (deploy/Caddyfile), as tests/test_scale_out.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.load import cpu_seconds, percentile
from core.runs.host import family, tree_memory_mb
from harness.browser import serving_app, serving_apps_behind_proxy
from harness.visitor import Visitor

DIGITS = ("1", "0", "7")
TARGET_P95 = 0.5  # s
CLEAR_AFTER = 1.0  # s from a reading to clearing the canvas


class Readings:
    """Round trips (s) with the time they were taken, errors and misreads."""

    def __init__(self) -> None:
        self.times: list[tuple[float, float]] = []  # (when sent, round trip)
        self.errors: list[str] = []
        self.misreads = 0

    def since(self, start: float) -> list[float]:
        return [trip for sent, trip in self.times if sent >= start]


async def drawing_visitor(url: str, every: float, until: float, readings: Readings, *, arrive: float = 0.0) -> None:
    """One visitor: arrive, open the Draw page, then draw and clear a digit every ~`every` s until `until`."""
    await asyncio.sleep(arrive)
    try:
        async with Visitor(url) as visitor:
            turn = random.Random(arrive)
            while time.perf_counter() < until:
                due = time.perf_counter() + every * turn.uniform(0.8, 1.2)
                digit = turn.choice(DIGITS)
                run = await visitor.draw(digit)
                readings.errors += run.errors
                if run.metrics.get("Prediction") == digit:
                    readings.times.append((run.sent, run.metric_at["Prediction"] - run.sent))
                else:
                    readings.misreads += 1
                await asyncio.sleep(CLEAR_AFTER)
                readings.errors += (await visitor.draw(None)).errors
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
    except Exception as error:  # a visitor whose connection broke is an error, not a crash of the benchmark
        readings.errors.append(f"{type(error).__name__}: {error}")


async def training_visitor(url: str, started: asyncio.Event, done: asyncio.Event) -> bool:
    """Start a long training on the Train page and watch its progress until `done`; True if it still trains."""
    async with Visitor(url, path="train", query="epochs=20") as trainer:
        await trainer.press("Train")
        started.set()
        while not done.is_set():
            await trainer.watch(1.0)
        return bool(trainer.ticking) and "Stop" in trainer.buttons


def summary(trips: list[float]) -> str:
    if not trips:
        return "no readings"
    return (
        f"{len(trips)} readings, round trip p50 {statistics.median(trips) * 1000:.0f} ms, "
        f"p95 {percentile(trips, 95) * 1000:.0f} ms, max {max(trips) * 1000:.0f} ms"
    )


@contextmanager
def servers(count: int) -> Iterator[tuple[str, dict[str, int]]]:
    """One server, or `count` behind Caddy: yields the URL visitors use and {each server's own URL: its pid}."""
    if count == 1:
        with serving_app() as (url, server):
            yield url, {url: server.pid}
    else:
        with serving_apps_behind_proxy(count) as (url, processes):
            yield url, {f"http://{address}": process.pid for address, process in processes.items()}


def memory(pids: list[int]) -> float:
    return sum(tree_memory_mb(pid) for pid in pids)


def cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(family(pid)) for pid in pids)


async def crowd(visitors: int, seconds: float, every: float, training: bool, count: int) -> dict:
    """One crowd on fresh servers: the baseline visitor alone, then `visitors` drawing for `seconds`."""
    with servers(count) as (url, each):
        pids = list(each.values())
        for server in each if count > 1 else []:  # behind the proxy: every server loads its model first
            await drawing_visitor(server, 1.0, time.perf_counter() + 8, Readings())
        alone = Readings()
        await drawing_visitor(url, 1.0, time.perf_counter() + 25, alone)  # loads the model, then ~10 readings
        first_mb = memory(pids)
        baseline = alone.times[2:]  # the first readings pay for loading the model
        trainer, started, done = None, asyncio.Event(), asyncio.Event()
        if training:
            trainer = asyncio.create_task(training_visitor(url, started, done))
            await asyncio.wait_for(started.wait(), 120)
            await asyncio.sleep(5)  # the training's process is up and fitting
        before_mb = memory(pids)
        readings, client = Readings(), time.process_time()
        cpu_before, wall = cpu(pids), time.perf_counter()
        arrived = wall + every  # everyone is in after one interval
        until = arrived + seconds
        sampler = asyncio.create_task(sample_memory(pids, arrived, until))
        await asyncio.gather(
            *(
                drawing_visitor(url, every, until, readings, arrive=every * index / visitors)
                for index in range(visitors)
            )
        )
        peak_mb, crowd_mb = await sampler
        server_cpu, took = cpu(pids) - cpu_before, time.perf_counter() - wall
        done.set()
        return {
            "visitors": visitors,
            "servers": count,
            "trips": readings.since(arrived),
            "errors": readings.errors,
            "misreads": readings.misreads,
            "baseline": [trip for _, trip in baseline],
            "first_mb": first_mb,
            "before_mb": before_mb,
            "crowd_mb": crowd_mb,
            "peak_mb": peak_mb,
            "server_cpu": server_cpu / took,
            "cpu_per_digit": server_cpu / max(1, len(readings.times) + readings.misreads),
            "client_cpu": (time.process_time() - client) / took,
            "training": training,
            "still_training": await trainer if trainer is not None else None,
        }


async def sample_memory(pids: list[int], start: float, until: float) -> tuple[float, float]:
    """The servers' PSS while the whole crowd draws: (peak, median)."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    samples = []
    while time.perf_counter() < until:
        samples.append(await asyncio.to_thread(memory, pids))
        await asyncio.sleep(2)
    return max(samples), statistics.median(samples)


def report(result: dict) -> bool:
    trips, visitors = result["trips"], result["visitors"]
    p95 = percentile(trips, 95) if trips else float("inf")
    per_visitor = (result["crowd_mb"] - result["before_mb"]) / visitors
    met = p95 <= TARGET_P95 and not result["errors"]
    where = "one server" if result["servers"] == 1 else f"{result['servers']} servers behind Caddy"
    print(
        f"{visitors} visitors on {where}{' and a training' if result['training'] else ''}: {summary(trips)}; "
        f"{len(result['errors'])} errors, {result['misreads']} misread; "
        f"p95 {p95 / percentile(result['baseline'], 95):.1f}x one visitor alone ({summary(result['baseline'])})",
        flush=True,
    )
    print(
        f"    server CPU {result['server_cpu']:.2f} cores ({result['cpu_per_digit'] * 1000:.0f} ms per digit drawn "
        f"and cleared), this client {result['client_cpu']:.2f}; memory (PSS) "
        f"{result['first_mb']:.0f} MB after the first visitor, {result['before_mb']:.0f} MB before the crowd, "
        f"{result['crowd_mb']:.0f} MB median with it "
        f"(peak {result['peak_mb']:.0f}): {per_visitor:.1f} MB per visitor; "
        f"target p95 <= {TARGET_P95 * 1000:.0f} ms: {'met' if met else 'NOT met'}"
        + ("" if result["still_training"] is None else f"; still training at the end: {result['still_training']}"),
        flush=True,
    )
    for error in result["errors"][:3]:
        print(f"    error: {error}")
    return met


class Wire:
    """A Chromium page's WebSocket frames as its network stack timed them (Chrome DevTools Protocol), decoded with
    the same protobufs: the server's round trip as a browser sees it, without the page's own rendering delays."""

    def __init__(self) -> None:
        self.sent: list[float] = []  # when a canvas value with a drawing left
        self.read: list[float] = []  # when a Prediction with a digit arrived

    async def watch(self, page) -> None:
        session = await page.context.new_cdp_session(page)
        await session.send("Network.enable")
        session.on("Network.webSocketFrameSent", lambda event: self._frame(event, BackMsg, self.sent))
        session.on("Network.webSocketFrameReceived", lambda event: self._frame(event, ForwardMsg, self.read))

    def _frame(self, event: dict, kind, times: list[float]) -> None:
        if event["response"]["opcode"] != 2:  # binary frames only: Streamlit's protobufs
            return
        message = kind()
        message.ParseFromString(base64.b64decode(event["response"]["payloadData"]))
        if kind is BackMsg:
            values = [widget.json_value for widget in message.rerun_script.widget_states.widgets]
            drawn = any('"type": "Path"' in value or '"type":"Path"' in value for value in values)
        else:
            element = message.delta.new_element
            drawn = element.WhichOneof("type") == "metric" and element.metric.body.isdigit()
        if drawn:
            times.append(event["timestamp"])

    def round_trips(self) -> list[float]:
        """From each drawing sent to the first Prediction after it."""
        return [min(t for t in self.read if t > sent) - sent for sent in self.sent if any(t > sent for t in self.read)]


async def validate(visitors: int, rounds: int) -> None:
    """bench/load.py's Chromium visitors, then as many wire visitors drawing as often, then both at once, on one
    server while one visitor trains. A round trip timed by the wire visitor should match the browsers' where the two
    share the server (the third phase), and the server should do the same work for a digit from either."""
    from playwright.async_api import async_playwright

    from bench.load import visitor as browser_visitor
    from harness.browser import CHROMIUM, CHROMIUM_ARGS

    def report_phase(name: str, cpu_used: float | None, digits: int, parts: dict[str, list[float]]) -> None:
        if cpu_used is None:
            print(f"{name}:", flush=True)
        else:
            print(
                f"{name}: server {cpu_used / max(digits, 1) * 1000:.0f} ms of CPU per digit, page loads included "
                f"(its own process, not the training's)",
                flush=True,
            )
        for part, trips in parts.items():
            print(f"    {part}: {summary(trips)}", flush=True)

    with serving_app() as (url, server):
        await drawing_visitor(url, 1.0, time.perf_counter() + 10, Readings())  # loads the model
        started, done = asyncio.Event(), asyncio.Event()
        trainer = asyncio.create_task(training_visitor(url, started, done))
        await asyncio.wait_for(started.wait(), 120)
        await asyncio.sleep(5)
        os.nice(19)  # the browsers run at the lowest priority, as in bench/load.py; this client returns to 0 below
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            os.nice(-19)

            async def browsers() -> tuple[list, list[Wire]]:
                readings: list = []
                wires = [Wire() for _ in range(visitors)]
                await asyncio.gather(
                    *(
                        browser_visitor(browser, url, rounds, readings, [], [], arrives=2.0 * i, watch=wires[i].watch)
                        for i in range(visitors)
                    )
                )
                return readings, wires

            def browser_parts(readings: list, wires: list[Wire]) -> dict[str, list[float]]:
                return {
                    "Chromium, as the page times it (send -> last message before the digit shows)": [
                        reading[2] for reading in readings
                    ],
                    "Chromium, as its network process times it (CDP frames: send -> the Prediction)": [
                        trip for wire in wires for trip in wire.round_trips()
                    ],
                }

            began, cpu_before = time.perf_counter(), cpu_seconds([server.pid])
            readings, wires = await browsers()
            took, cpu_used = time.perf_counter() - began, cpu_seconds([server.pid]) - cpu_before
            every = took / max(len(readings) / visitors, 1)
            report_phase(
                f"{visitors} Chromium visitors (browsers at nice 19), a digit every {every:.1f} s each",
                cpu_used,
                len(readings),
                browser_parts(readings, wires),
            )

            wire, cpu_before = Readings(), cpu_seconds([server.pid])
            until = time.perf_counter() + rounds * every
            await asyncio.gather(
                *(drawing_visitor(url, every, until, wire, arrive=2.0 * index) for index in range(visitors))
            )
            report_phase(
                f"{visitors} wire visitors drawing as often",
                cpu_seconds([server.pid]) - cpu_before,
                len(wire.times),
                {"wire, send -> the Prediction": wire.since(0)},
            )

            wire = Readings()
            until = time.perf_counter() + rounds * every
            both = await asyncio.gather(
                browsers(), *(drawing_visitor(url, every, until, wire, arrive=2.0 * index) for index in range(visitors))
            )
            readings, wires = both[0]
            report_phase(
                f"both at once: {visitors} Chromium and {visitors} wire visitors",
                None,
                0,
                browser_parts(readings, wires) | {"wire, send -> the Prediction": wire.since(0)},
            )
            await browser.close()
        done.set()
        print(f"training still running at the end: {await trainer}")


async def main(crowds: list[int], seconds: float, every: float, training: bool, count: int) -> None:
    held = 0
    for visitors in crowds:
        if not report(await crowd(visitors, seconds, every, training, count)):
            break
        held = visitors
    print(
        f"\nlargest crowd held at round trip p95 <= {TARGET_P95 * 1000:.0f} ms"
        f"{' with a training' if training else ''}: {held or 'none'} of {crowds}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowds", default="25,50,100,150,200", help="crowd sizes to try, in order")
    parser.add_argument("--seconds", type=float, default=60, help="how long each crowd draws once all have arrived")
    parser.add_argument("--every", type=float, default=5, help="seconds between one visitor's digits")
    parser.add_argument("--training", action="store_true", help="one more visitor trains meanwhile")
    parser.add_argument("--servers", type=int, default=1, help="servers on this machine, behind Caddy if more than 1")
    parser.add_argument("--validate", action="store_true", help="10 Chromium visitors, then 10 wire visitors")
    arguments = parser.parse_args()
    if arguments.validate:
        sys.exit(asyncio.run(validate(10, 8)))
    crowd_sizes = [int(size) for size in arguments.crowds.split(",")]
    asyncio.run(main(crowd_sizes, arguments.seconds, arguments.every, arguments.training, arguments.servers))
