"""Helpers to drive the real app in headless Chromium (Debian's, as HOUSE.md describes)."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, sync_playwright

from harness.symbols import DIGIT_STROKES, STROKES

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Several visitors share one browser here; a real visitor's page is in front, so none may be throttled.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"

NO_READING = "–"  # the Prediction's value before anything is drawn (ui/reading.py)
STROKES_BY_NAME = {**DIGIT_STROKES, **STROKES}  # what draw_digit can draw: digits, and symbols for Teach


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(*, timeout: float = 90.0, env: dict | None = None) -> Iterator[str]:
    """Start `streamlit run app.py` on a free port (with `env` added); yield its URL once /_stcore/health says ok."""
    with serving_app(timeout=timeout, env=env) as (url, _):
        yield url


def wait_until_healthy(url: str, process: subprocess.Popen, log, timeout: float) -> None:
    """Until `url`/_stcore/health answers ok; RuntimeError with the end of `log` if `process` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"{process.args[0]} did not start: {log.read().decode()[-2000:]}")
        time.sleep(0.2)


@contextmanager
def serving_app(
    *, timeout: float = 90.0, env: dict | None = None, root: Path = ROOT
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like running_app, yielding the server process too (to watch its memory); `root`: another checkout's app
    (a bench's baseline)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server never blocks on a full pipe
    process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=os.environ | (env or {}))
    url = f"http://localhost:{port}"
    try:
        wait_until_healthy(url, process, log, timeout)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@contextmanager
def serving_apps_behind_proxy(count: int, env: dict | None = None) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """`count` Digit Lab servers (with `env`) and Caddy in front of them: yields the proxy's URL and
    {host:port: process}."""
    caddy = shutil.which("caddy")
    if caddy is None:
        raise RuntimeError("Caddy is missing: scripts/test.sh installs it (apt-get install caddy)")
    with ExitStack() as stack:
        servers = {}
        for _ in range(count):
            url, process = stack.enter_context(serving_app(env=env))
            servers[urlsplit(url).netloc.replace("localhost", "127.0.0.1")] = process
        port = free_port()
        log = stack.enter_context(tempfile.TemporaryFile())
        env = os.environ | {"DIGITLAB_SERVERS": " ".join(servers), "DIGITLAB_PROXY_PORT": str(port)}
        proxy = subprocess.Popen(
            [caddy, "run", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(lambda: (proxy.terminate(), proxy.wait(timeout=10)))
        url = f"http://localhost:{port}"
        wait_until_healthy(url, proxy, log, 30)
        yield url, servers


@contextmanager
def browser_page(*, width: int = 1280, height: int = 720, **options) -> Iterator[Page]:
    """A page in a fresh Chromium; `options` go to new_page (has_touch, is_mobile, user_agent, ...)."""
    with browser_pages({"width": width, "height": height, **options}) as (page,):
        yield page


@contextmanager
def browser_pages(*visitors: dict) -> Iterator[list[Page]]:
    """A page per visitor in one Chromium, each with its own cookies and session: {"width", "height", **options}."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = []
            for visitor in visitors:
                options = dict(visitor)
                viewport = {"width": options.pop("width", 1280), "height": options.pop("height", 720)}
                options.setdefault("locale", "en-US")  # the app speaks the browser's language: the tests' is English
                pages.append(browser.new_page(viewport=viewport, **options))
            yield pages
        finally:
            browser.close()


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script has finished its run after an interaction."""
    page.wait_for_timeout(300)  # let the rerun start before we look for its end
    page.wait_for_selector(IDLE, timeout=timeout)


CANVAS = "[data-testid=stBidiComponentIsolated] canvas.upper-canvas"


def open_draw_page(page: Page, url: str, *, settle: bool = True) -> None:
    """Load the app on its Draw page and wait until the canvas is shown (and, if `settle`, takes strokes)."""
    page.goto(url)
    page.get_by_text("Draw a digit on the black square").wait_for(timeout=90_000)
    page.wait_for_selector(IDLE, timeout=90_000)
    page.locator(CANVAS).first.wait_for(timeout=60_000)
    if settle:
        # The component loads its initial drawing asynchronously and then resets its history,
        # which would swallow a stroke made in that instant; a person takes longer than this.
        page.wait_for_timeout(1500)


def canvas_box(page: Page) -> dict:
    return page.locator(CANVAS).first.bounding_box()


def draw_digit(page: Page, digit: str, *, x: float, y: float, size: float, canvas: int = 0) -> None:
    """Draw `digit` (or a symbol) with the mouse in the canvas square (x, y, size) given in canvas fractions."""
    box = page.locator(CANVAS).nth(canvas).bounding_box()
    for stroke in STROKES_BY_NAME[digit]:
        points = [
            (box["x"] + (x + u * size) * box["width"], box["y"] + (y + v * size) * box["height"]) for u, v in stroke
        ]
        page.mouse.move(*points[0])
        # Hovering lifts the canvas toolbar, which otherwise lies invisibly over the top-right band.
        page.wait_for_timeout(400)
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=8)
        page.mouse.up()
    wait_idle(page)


PHONE = {  # a phone held upright, as Chromium's device list describes one
    "width": 390,
    "height": 844,
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 3,
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
}


def touch_digit(page: Page, digit: str, *, x: float, y: float, size: float, step: float = 4.0) -> None:
    """Draw `digit` with a finger: CDP touch events with a point every `step` px, as a touch screen reports them."""
    session = page.context.new_cdp_session(page)
    box = page.locator(CANVAS).first.bounding_box()
    for stroke in STROKES_BY_NAME[digit]:
        corners = [
            (box["x"] + (x + u * size) * box["width"], box["y"] + (y + v * size) * box["height"]) for u, v in stroke
        ]
        points = [corners[0]]
        for (x0, y0), (x1, y1) in zip(corners, corners[1:], strict=False):
            count = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
            points += [(x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)]
        session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [_touch(*points[0])]})
        for point in points[1:]:
            session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [_touch(*point)]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_timeout(150)
    session.detach()
    wait_idle(page)


def _touch(x: float, y: float) -> dict:
    return {"x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1, "id": 0}


def canvas_button(page: Page, name: str) -> None:
    """Press a canvas toolbar button: "Undo", "Redo" or "Reset canvas & history"."""
    page.get_by_role("button", name=name, exact=True).click()
    wait_idle(page)


def wait_for_charts(page: Page, count: int) -> None:
    """Wait until `count` plotly charts have drawn (they render after the script run ends)."""
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {count}", timeout=30_000)


def wait_for_reading(page: Page) -> None:
    """Wait until the probability bars and the 28x28 picture the network saw are on the page."""
    page.get_by_role("list", name="Probability of each digit").wait_for(timeout=30_000)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=stImage] img')].some(i => i.complete && i.naturalWidth)",
        timeout=30_000,
    )


def settled_prediction(page: Page, expected: str | None, *, timeout: float = 20.0) -> str | None:
    """The Prediction once it shows `expected` (or, after `timeout` seconds, whatever it shows).

    The canvas sends a stroke a moment after the mouse is released, so a single look right after
    an interaction can still see the previous run's result.
    """
    deadline = time.monotonic() + timeout
    while True:
        page.wait_for_selector(IDLE, timeout=60_000)
        value = prediction(page)
        if value == expected or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)


def prediction(page: Page) -> str | None:
    """The value of the Prediction metric, or None when it is not shown, shows no reading or is being replaced."""
    shown = page.locator("[data-testid=stMetric]").filter(has_text="Prediction").locator("[data-testid=stMetricValue]")
    values = {value.strip() for value in shown.all_inner_texts()}  # two for a moment while a run replaces the last
    if len(values) != 1:
        return None
    value = values.pop()
    return None if value == NO_READING else value
