"""Two Digit Lab servers behind Caddy (deploy/Caddyfile), for real: sticky visitors, and one server killed mid-run.

Visitors are harness/visitor.py's (Streamlit's WebSocket protocol) and real Chromium pages. The
proxy names the server that answered each request (X-Digitlab-Server), which is how the test sees where a
visitor is.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed

from harness.browser import (
    IDLE,
    ROOT,
    browser_pages,
    canvas_button,
    draw_digit,
    free_port,
    open_draw_page,
    serving_apps_behind_proxy,
    settled_prediction,
    wait_idle,
    wait_until_healthy,
)
from harness.visitor import SERVER_HEADER, Visitor

pytestmark = pytest.mark.browser
MOVED = "Digit Lab moved you to another server"


async def keep_drawing(visitor: Visitor, until: float, log: dict) -> None:
    """Draw 1, 0, 7, ... until `until`; when the server goes away, reconnect as a browser does and go on."""
    digits = "107"
    while time.perf_counter() < until:
        digit = digits[log["drawn"] % 3]
        try:
            run = await visitor.draw(digit)
        except (TimeoutError, ConnectionClosed):
            run = await visitor.reconnect()
            log["moved"] += any(MOVED in text for text in run.texts)
            continue
        log["errors"] += run.errors
        log["read"] += run.metrics.get("Prediction") == digit
        log["drawn"] += 1
        await asyncio.sleep(0.3)


def test_visitors_stay_on_their_server_and_move_to_the_other_when_it_dies():
    with serving_apps_behind_proxy(2) as (url, servers):

        async def hall() -> tuple[list[Visitor], list[dict], dict]:
            visitors = [Visitor(url) for _ in range(12)]
            for visitor in visitors:
                await visitor.open()
            first = {visitor: visitor.servers[0] for visitor in visitors}
            assert set(first.values()) == set(servers)  # the proxy spread them over both
            killed = first[visitors[0]]
            logs = [{"drawn": 0, "read": 0, "errors": [], "moved": 0} for _ in visitors]
            sessions = [visitor.session_id for visitor in visitors]
            until = time.perf_counter() + 12
            drawing = asyncio.gather(*(keep_drawing(v, until, log) for v, log in zip(visitors, logs, strict=True)))
            await asyncio.sleep(3)
            servers[killed].kill()  # mid-run, as a crashed machine: no goodbye to anyone
            await drawing
            for visitor in visitors:
                await visitor.close()
            return visitors, logs, {"killed": killed, "first": first, "sessions": sessions}

        visitors, logs, seen = asyncio.run(hall())
        for visitor, log, session in zip(visitors, logs, seen["sessions"], strict=True):
            assert not log["errors"] and log["read"] == log["drawn"] >= 5, log
            if seen["first"][visitor] == seen["killed"]:  # moved once, told so, and drawing on the other server
                assert visitor.reconnects == 1 and log["moved"] == 1, log
                moved_at = next(index for index, server in enumerate(visitor.servers) if server != seen["killed"])
                assert set(visitor.servers[:moved_at]) == {seen["killed"]}  # on one server, then on the other only
                assert set(visitor.servers[moved_at:]) == set(servers) - {seen["killed"]}
                assert visitor.session_id != session
            else:  # sticky: every request on its one server, the same session, never interrupted
                assert visitor.reconnects == 0 and log["moved"] == 0
                assert set(visitor.servers) == {seen["first"][visitor]} and visitor.session_id == session


def sticky_cookies(url: str) -> dict[str, str]:
    """The proxy's cookie for each server, learnt as a browser would (new visitors until each server has had one)."""
    cookies = {}
    for _ in range(100):
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            value = response.headers["Set-Cookie"].split(";")[0].partition("=")[2]
            cookies.setdefault(response.headers[SERVER_HEADER], value)
        if len(cookies) == 2:
            return cookies
    raise AssertionError(f"100 new visitors, all sent to {set(cookies)}")


def test_a_browser_on_the_dying_server_is_told_and_one_on_the_other_sees_nothing():
    with serving_apps_behind_proxy(2) as (url, servers), browser_pages({}, {}) as (doomed, survivor):
        (killed, doomed_cookie), (_, survivor_cookie) = sorted(sticky_cookies(url).items())
        for page, cookie, digit in ((doomed, doomed_cookie, "7"), (survivor, survivor_cookie, "1")):
            page.context.add_cookies([{"name": "digitlab_server", "value": cookie, "url": url}])  # one on each
            open_draw_page(page, url)
            draw_digit(page, digit, x=0.15, y=0.15, size=0.7)
            assert settled_prediction(page, digit) == digit
        assert doomed.request.get(url).headers[SERVER_HEADER.lower()] == killed

        servers[killed].kill()
        doomed.get_by_text(MOVED).wait_for(timeout=60_000)  # reconnected to the other server, and told why
        assert settled_prediction(doomed, None) is None  # a fresh start: the empty canvas has no reading
        doomed.screenshot(path=ROOT / "artifacts" / "moved-1280x720.png")
        canvas_button(doomed, "Reset canvas & history")
        draw_digit(doomed, "0", x=0.15, y=0.15, size=0.7)  # and the canvas works there
        assert settled_prediction(doomed, "0") == "0"

        canvas_button(survivor, "Reset canvas & history")
        draw_digit(survivor, "7", x=0.15, y=0.15, size=0.7)
        assert settled_prediction(survivor, "7") == "7"
        assert survivor.get_by_text(MOVED).count() == 0
        assert survivor.locator("[data-testid=stException], [data-testid=stAlertContentError]").count() == 0
        assert survivor.get_by_text("Connecting").count() == 0


def test_what_the_image_copies_is_enough_to_serve_the_app_and_pass_its_health_check(tmp_path):
    """The Dockerfile's COPY lines, CMD and HEALTHCHECK, run here (no Docker engine on these machines): a folder with
    only what the image copies serves the app, the health check passes, and the Draw page reads a digit."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY --chown"):
            source = line.split()[2]
            (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, tmp_path / source)
    command = json.loads(dockerfile.split("\nCMD ", 1)[1].splitlines()[0])
    health = json.loads(dockerfile.split("    CMD ", 1)[1].splitlines()[0])
    port = str(free_port())
    command = [sys.executable if part == "python" else part.replace("8501", port) for part in command]
    health = [sys.executable if part == "python" else part.replace("8501", port) for part in health]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(f"http://localhost:{port}", server, log, 90)
            assert subprocess.run(health, timeout=10).returncode == 0
            elsewhere = health[:2] + [health[2].replace(port, "1")]  # the check can fail: nothing serves port 1
            assert subprocess.run(elsewhere, timeout=10).returncode != 0

            async def draw() -> str | None:
                async with Visitor(f"http://localhost:{port}") as visitor:
                    return (await visitor.draw("7")).metrics.get("Prediction")

            async def chinese() -> list[str]:  # the catalogs came too
                visitor = Visitor(f"http://localhost:{port}", query="lang=zh")
                try:
                    return (await visitor.open()).texts
                finally:
                    await visitor.close()

            assert asyncio.run(draw()) == "7"
            assert "写一个数字" in asyncio.run(chinese())
        finally:
            server.terminate()
            server.wait(timeout=20)


def test_phones_on_either_server_follow_a_presenter_on_one_of_them(tmp_path):
    """A room too large for one server: the servers share the stage file (DIGITLAB_STAGE), so every phone follows."""
    key = "speaker-only"
    env = {"DIGITLAB_PRESENTER_KEY": key, "DIGITLAB_STAGE": str(tmp_path / "stage")}
    with serving_apps_behind_proxy(2, env=env) as (url, servers):
        phones: list[Visitor] = []
        done, ready = threading.Event(), threading.Event()

        async def follow() -> None:
            # Caddy's cookie policy sends a new visitor to a server at random: 8 phones all land on one
            # server once in 128 rooms, so phones join until both servers hold some (all on one: 2^-23).
            while len(phones) < 8 or (len({phone.servers[0] for phone in phones}) < 2 and len(phones) < 24):
                phones.append(Visitor(url, query="follow=1"))
                await phones[-1].open()
            ready.set()
            while not done.is_set():
                await asyncio.gather(*(phone.watch(0.5) for phone in phones))
            for phone in phones:
                await phone.close()

        room = threading.Thread(target=lambda: asyncio.run(follow()), daemon=True)
        room.start()
        assert ready.wait(120)
        assert {phone.servers[0] for phone in phones} == set(servers)  # the proxy spread the room over both
        try:
            with browser_pages({"width": 1280, "height": 720}) as (presenter,):
                presenter.goto(f"{url}/?talk=1&chapters=draw,evaluate")
                presenter.wait_for_selector(IDLE, timeout=90_000)
                presenter.get_by_role("button", name="Talk").click()
                presenter.get_by_label("Presenter key: phones that joined follow your chapters", exact=True).fill(key)
                presenter.keyboard.press("Enter")
                presenter.get_by_text(f"{len(phones)} phone(s) following").wait_for(
                    timeout=20_000
                )  # both servers' phones
                presenter.get_by_role("button", name="Talk", exact=True).click()
                wait_idle(presenter)
                presenter.get_by_role("button", name="Next").click()
                presenter.locator(".digitlab-talk-title", has_text="How it errs").wait_for(timeout=30_000)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not all(on_evaluate(phone) for phone in phones):
                    time.sleep(0.2)
        finally:
            done.set()
            room.join(timeout=30)
        assert all(on_evaluate(phone) for phone in phones), [phone.pages[-1:] for phone in phones]
        assert all(len(set(phone.servers)) == 1 for phone in phones)  # each followed on its own server


def on_evaluate(phone: Visitor) -> bool:
    return any(page.endswith("evaluate") for _, page in list(phone.pages))
