"""What watching a training costs: the Train page's CPU in Chromium and in the server, per second.

    python -m bench.train_page [--seconds 30] [--repeats 2]

The Train page redraws its progress bar and curves every second while a run trains. In one
headless Chromium, measured in the same run: the Train page open and idle (the baseline), then
the same page watching a 10-epoch training. Browser CPU is every Chromium process's; server CPU is
the Streamlit process's alone (the training runs in a child process and is not counted). Medians
of --repeats windows of --seconds each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from playwright.async_api import async_playwright

from bench.load import browser_pids, cpu_seconds
from harness.browser import CHROMIUM, CHROMIUM_ARGS, serving_app


async def window(server_pid: int, seconds: float) -> tuple[float, float]:
    """(browser, server) CPU seconds per second of wall time over the next `seconds`."""
    browser, server = cpu_seconds(browser_pids()), cpu_seconds([server_pid])
    await asyncio.sleep(seconds)
    return (cpu_seconds(browser_pids()) - browser) / seconds, (cpu_seconds([server_pid]) - server) / seconds


async def main(seconds: float, repeats: int) -> None:
    with serving_app() as (url, server):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
            await page.goto(f"{url}/train?epochs=10")  # long enough for every window
            await page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
            await asyncio.sleep(5)  # the trainer process starts when the page opens
            idle = [await window(server.pid, seconds) for _ in range(repeats)]
            await page.get_by_role("button", name="Train", exact=True).click()
            await page.get_by_text("Epoch 1/10").wait_for(timeout=120_000)
            watching = [await window(server.pid, seconds) for _ in range(repeats)]
            await browser.close()
    for name, windows in (("Train page idle", idle), ("watching a training", watching)):
        browser_cpu = statistics.median(cpu for cpu, _ in windows)
        server_cpu = statistics.median(cpu for _, cpu in windows)
        print(f"{name}: browser {browser_cpu:.1%} of a core, server {server_cpu:.1%} of a core")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.repeats))
