"""A hall of visitors on one server: mouse-up -> prediction latency while a training runs, and memory.

    python -m bench.load [--visitors 10] [--rounds 8] [--holders 5] [--client-nice 19]

Baseline first, in the same run: one visitor drawing alone on an idle server. Then the crowd:
`holders` visitors each upload 3 copies of the default model (which join their own registries),
one more visitor starts a 10-epoch training on the Train page, and `visitors` headless Chromium
pages draw digits repeatedly, each clearing the canvas and drawing the next one. Latency is from
the mouse button's release to the Prediction showing the drawn digit. Errors are any error
message or exception on a page, a missing prediction after 30 s, or a failed request. The memory of
the server and its training processes (PSS, shared pages once) is sampled twice a second.

The visitors' browsers run on the server's own two cores here, and a fresh page load of Streamlit
costs a browser ~4 CPU-seconds (~0.45 on the server): ten people arriving would take the whole
machine from the server. In a hall each of them has their own phone. So the browsers and their
driver run at CPU niceness `--client-nice` (19 by default): they use what the server and its
training (niceness 10) leave, paying their own costs in their latency as before. `--client-nice 0`
shares the cores equally, the harsher test.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from playwright.async_api import Page, async_playwright

from core.runs.host import family, tree_memory_mb
from harness.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, DIGIT_STROKES, IDLE, NO_READING, serving_app

ROOT = Path(__file__).resolve().parent.parent

DIGITS = ("1", "0", "7")
MODEL_COPIES = 3  # models each holder uploads
TIMEOUT_MS = 30_000
POINTER_HZ = 60  # pointer moves a browser delivers per second (one per frame)
PEN_SPEED = 600  # CSS pixels per second: a steady hand


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a renderer that has exited
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def browser_pids() -> list[int]:
    pids = []
    for process in Path("/proc").iterdir():
        try:
            if process.name.isdigit() and "chrom" in (process / "comm").read_text(errors="ignore"):
                pids.append(int(process.name))
        except OSError:  # a process that exited while we looked
            continue
    return pids


class MemoryWatch(threading.Thread):
    """Samples the memory of a process and its descendants twice a second; `peak` is the largest sample."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_memory_mb(self.pid))
            time.sleep(0.5)


async def open_draw_page(page: Page, url: str) -> None:
    await page.goto(url, timeout=120_000)
    await page.get_by_text("Draw a digit on the black square").wait_for(timeout=120_000)
    await page.wait_for_selector(IDLE, timeout=120_000)
    await page.locator(CANVAS).first.wait_for(timeout=60_000)
    await page.wait_for_timeout(1500)  # the canvas resets its history once after mounting


async def shown_error(page: Page) -> str | None:
    alerts = page.locator("[data-testid=stException], [data-testid=stAlertContentError]")
    return await alerts.first.inner_text() if await alerts.count() else None


async def draw(page: Page, digit: str) -> None:
    """Draw `digit` large in the middle of the canvas at a hand's pace, releasing the mouse at the end.

    A browser delivers at most one pointer move per frame, and a hand moves a few hundred pixels a
    second: a 0 takes ~50 moves over ~0.8 s. (Sending 160 moves back to back cost the machine 2.7
    CPU-seconds per 0, in the driver and the renderer, which a visitor's own phone would pay.)
    """
    box = await page.locator(CANVAS).first.bounding_box()
    clock = asyncio.get_running_loop().time
    for stroke in DIGIT_STROKES[digit]:
        points = [
            (box["x"] + (0.25 + 0.55 * u) * box["width"], box["y"] + (0.15 + 0.7 * v) * box["height"])
            for u, v in stroke
        ]
        await page.mouse.move(*points[0])
        await page.wait_for_timeout(400)  # hovering lifts the canvas toolbar out of the way
        await page.mouse.down()
        due = clock()
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            moves = max(1, math.ceil(math.dist((x0, y0), (x1, y1)) * POINTER_HZ / PEN_SPEED))
            for step in range(1, moves + 1):
                due = max(due, clock()) + 1 / POINTER_HZ  # a late frame delays the hand; it does not rush
                await asyncio.sleep(due - clock())
                await page.mouse.move(x0 + (x1 - x0) * step / moves, y0 + (y1 - y0) * step / moves)
        await page.mouse.up()


# Latency is timed by the page's own clock, from the pointerup event to the DOM showing the digit,
# so the delays of the driver (which shares the 2 cores) do not count. A MutationObserver stamps the
# moment the Prediction's text changes; the driver only reads the stamp, at a relaxed pace. (Polling
# the DOM every animation frame in ten pages cost the machine more CPU than the server used.)
# The page also stamps its WebSocket: the first message sent after the pen lifts (the canvas's
# value) and the last one received before the digit shows. That splits each reading into the
# canvas's send delay, the round trip (the server, and the browser's own network process), and the
# browser drawing the answer.
WATCH_PREDICTION = """
addEventListener('pointerup', () => { window.releasedAt = performance.now(); window.sentAt = null; }, true);
window.shown = {text: null, at: 0, heard: 0};
window.WebSocket = class extends WebSocket {
    constructor(...args) {
        super(...args);
        this.addEventListener('message', () => { window.heardAt = performance.now(); });
    }
    send(data) {
        if (window.sentAt === null) window.sentAt = performance.now();
        super.send(data);
    }
};
new MutationObserver(() => {
    const value = document.querySelector('[data-testid=stMetric] [data-testid=stMetricValue]');
    const text = value && value.textContent.trim();
    if (text !== window.shown.text) window.shown = {text, at: performance.now(), heard: window.heardAt};
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
# -> [total, canvas send delay, round trip, browser drawing], in ms, once the digit shows
PREDICTION_IS = """digit => window.shown.text === digit && window.shown.at > window.releasedAt && [
    window.shown.at - window.releasedAt, window.sentAt - window.releasedAt,
    window.shown.heard - window.sentAt, window.shown.at - window.shown.heard]"""
NO_PREDICTION = f"() => window.shown.text === '{NO_READING}'"
POLL_MS = 100  # how often the driver looks at the stamp; it does not change the time measured


async def visitor(
    browser, url: str, rounds: int, readings: list, errors: list, misreads: list, *, arrives: float = 0.0, watch=None
) -> None:
    """One person arriving after `arrives` seconds and drawing `rounds` digits: draw, wait, clear, repeat.

    `watch`, if given, is awaited with the page before it opens (bench/capacity.py listens to its WebSocket)."""
    await asyncio.sleep(arrives)
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    await context.add_init_script(WATCH_PREDICTION)
    page = await context.new_page()
    if watch is not None:
        await watch(page)
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    try:
        await open_draw_page(page, url)
        for round_ in range(rounds):
            digit = DIGITS[round_ % len(DIGITS)]
            await draw(page, digit)
            try:
                shown = await page.wait_for_function(PREDICTION_IS, arg=digit, polling=POLL_MS, timeout=TIMEOUT_MS)
                readings.append([ms / 1000 for ms in await shown.json_value()])
            except Exception:
                values = await page.locator("[data-testid=stMetricValue]").all_inner_texts()
                shown = [value for value in values if value.strip() != NO_READING]
                (misreads if shown else errors).append(f"drew {digit}, page shows {shown or 'no prediction'}")
            if error := await shown_error(page):
                errors.append(error)
            await page.get_by_role("button", name="Reset canvas & history", exact=True).click()
            await page.wait_for_function(NO_PREDICTION, polling=POLL_MS, timeout=TIMEOUT_MS)
    except Exception as error:  # a visitor whose page broke is an error, not a crash of the benchmark
        errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()


async def holder(browser, url: str) -> None:
    """A visitor who uploads MODEL_COPIES models and keeps the tab open."""
    page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    await open_draw_page(page, url)
    await page.get_by_text("Bring your own model").click()
    folder = Path(tempfile.mkdtemp())
    upload = page.locator("[data-testid=stSidebar] [data-testid=stFileUploaderDropzoneInput]")
    for copy in range(1, MODEL_COPIES + 1):  # each new file replaces the last in the uploader
        model = folder / f"model_{copy}.keras"
        shutil.copy(ROOT / "assets" / "default_model.keras", model)
        await upload.set_input_files(model)
        await page.get_by_text(f"Added upload {copy}").wait_for(timeout=120_000)


async def trainer(browser, url: str) -> Page:
    """A visitor who starts a 10-epoch training and leaves it running."""
    page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    await page.goto(f"{url}/train?epochs=10")  # long enough to outlast the crowd
    await page.get_by_role("button", name="Train", exact=True).click()
    await page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
    return page


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(name: str, readings: list[list[float]], errors: list, misreads: list) -> tuple[float, float]:
    """Print p50/p95 of the readings' latency and its parts; return the latency's p50 and p95."""
    if not readings:
        print(f"  {name}: no readings; {len(errors)} errors: {errors[:5]}", flush=True)
        return float("nan"), float("nan")
    latencies = [reading[0] for reading in readings]
    p50, p95 = statistics.median(latencies), percentile(latencies, 95)
    print(
        f"  {name}: {len(latencies)} readings, mouse-up -> prediction p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"{len(errors)} errors, {len(misreads)} misread",
        flush=True,
    )
    columns = list(zip(*readings, strict=True))[1:]
    parts = zip(("canvas send delay", "round trip", "browser drawing"), columns, strict=True)
    print(
        "    "
        + "; ".join(
            f"{part} p50 {statistics.median(times) * 1000:.0f} ms, p95 {percentile(list(times), 95) * 1000:.0f} ms"
            for part, times in parts
        )
    )
    for error in errors[:5]:
        print(f"    error: {error}")
    return p50, p95


async def main(visitors: int, rounds: int, holders: int, train: bool, client_nice: int) -> None:
    with serving_app() as (url, server):
        watch = MemoryWatch(server.pid)
        watch.start()
        os.nice(client_nice)  # the driver and the browsers it starts; the server already runs
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            warm = await browser.new_page()
            await warm.add_init_script(WATCH_PREDICTION)
            await open_draw_page(warm, url)  # the first visitor loads the model and reads a first digit
            await draw(warm, "1")
            await warm.wait_for_function(PREDICTION_IS, arg="1", polling=POLL_MS, timeout=60_000)
            idle_mb = tree_memory_mb(server.pid)
            print(f"server after the first visitor (PSS): {idle_mb:.0f} MB", flush=True)

            alone: tuple[list, list, list] = ([], [], [])
            await visitor(browser, url, rounds, *alone)
            base_p50, base_p95 = report("baseline, one visitor on an idle server", *alone)

            started = time.perf_counter()
            await asyncio.gather(*(holder(browser, url) for _ in range(holders)))
            print(
                f"  {holders} visitors uploaded {MODEL_COPIES} models each in {time.perf_counter() - started:.0f} s; "
                f"server {tree_memory_mb(server.pid):.0f} MB",
                flush=True,
            )
            training = await trainer(browser, url) if train else None
            crowd: tuple[list, list, list] = ([], [], [])
            started = time.perf_counter()
            server_cpu, browser_cpu = cpu_seconds(family(server.pid)), cpu_seconds(browser_pids())
            arrivals = (visitor(browser, url, rounds, *crowd, arrives=2.0 * index) for index in range(visitors))
            await asyncio.gather(*arrivals)  # people arrive over a few seconds, not in the same instant
            still_training = training is not None and await training.get_by_role("button", name="Stop").count() > 0
            p50, p95 = report(f"{visitors} visitors drawing" + (" while one trains" if train else ""), *crowd)
            print(
                f"  crowd phase {time.perf_counter() - started:.0f} s; CPU used: server "
                f"{cpu_seconds(family(server.pid)) - server_cpu:.0f} s, "
                f"browsers {cpu_seconds(browser_pids()) - browser_cpu:.0f} s; "
                f"training still running at the end: {still_training}"
            )
            await browser.close()
        watch.running = False
        crowd_name = f"{visitors} visitors" + (" and a training" if train else "") + f", browsers at nice {client_nice}"
        print(
            f"\nmouse-up -> prediction with {crowd_name}: p50 {p50 * 1000:.0f} ms "
            f"({p50 / base_p50:.1f}x alone), p95 {p95 * 1000:.0f} ms ({p95 / base_p95:.1f}x alone); "
            f"target p95 <= 1000 ms: {'met' if p95 <= 1.0 else 'NOT met'}"
        )
        print(
            f"server memory: {idle_mb:.0f} MB after the first visitor, peak {watch.peak:.0f} MB "
            f"with {holders} visitors holding {MODEL_COPIES} models each; target < 2048 MB: "
            f"{'met' if watch.peak < 2048 else 'NOT met'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=8, help="digits each visitor draws")
    parser.add_argument("--holders", type=int, default=5, help="visitors who upload models first")
    parser.add_argument("--no-training", action="store_true", help="the crowd without a training, to compare")
    parser.add_argument("--client-nice", type=int, default=19, help="CPU niceness of the visitors' browsers")
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.visitors, arguments.rounds, arguments.holders, not arguments.no_training, arguments.client_nice)
    )
