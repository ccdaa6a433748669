"""The room's wall under a talk's load: 20 phones sharing a drawing every 5 s for a minute while the wall refreshes.

Run from the repository root: `python -m bench.room` (about 3 minutes on 2 cores). One Chromium holds the
visitors (390x844 phones that draw once with a finger, then press "Share with the room" every --every
seconds) and the wall (the Room page at 1280x720). The wall's delay is the time from a visitor's press to
the drawing appearing on the wall (a MutationObserver in the wall's page stamps each drawing when it
first shows). Baseline, in the same run: one visitor sharing alone. The server's memory (RSS) is
sampled every second.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

from harness.browser import IDLE, PHONE, browser_pages, open_draw_page, serving_app, settled_prediction, touch_digit

WATCH = """() => {
  window.seen = {};
  const stamp = () => document.querySelectorAll('figure[aria-label^="drawing "]').forEach(f => {
    const number = f.getAttribute('aria-label').split(':')[0].slice(8);
    if (!(number in window.seen)) window.seen[number] = Date.now() / 1000;
  });
  new MutationObserver(stamp).observe(document.body, {subtree: true, childList: true});
  stamp();
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def share_rounds(visitors, rounds: int, every: float, pressed: list[float]) -> None:
    """Each visitor presses Share once a round; `pressed` gets each press's time, in the order the room numbers them."""
    for _ in range(rounds):
        start = time.time()
        for page in visitors:
            pressed.append(time.time())
            page.get_by_role("button", name="Share with the room").click()
        time.sleep(max(0.0, every - (time.time() - start)))


def delays(wall, pressed: list[float], first: int) -> list[float]:
    """Seconds from each press (share number first, first + 1, ...) to its drawing showing on the wall."""
    deadline = time.time() + 10
    while time.time() < deadline and len(wall.evaluate("Object.keys(window.seen)")) < first - 1 + len(pressed):
        wall.wait_for_timeout(250)
    seen = wall.evaluate("window.seen")
    missing = [n for n in range(first, first + len(pressed)) if str(n) not in seen]
    if missing:
        print(f"  {len(missing)} of {len(pressed)} shares never showed on the wall (first: #{missing[0]})")
    return [seen[str(first + i)] - t for i, t in enumerate(pressed) if str(first + i) in seen]


def main(visitors: int, seconds: float, every: float) -> None:
    with serving_app() as (url, server), browser_pages({}, *[PHONE] * visitors) as (wall, *phones):
        memory, running = [], True

        def sample() -> None:
            while running:
                memory.append((time.time(), rss_mb(server.pid)))
                time.sleep(1.0)

        threading.Thread(target=sample, daemon=True).start()
        wall.goto(f"{url}/room")
        wall.wait_for_selector(IDLE, timeout=90_000)
        wall.evaluate(WATCH)
        digits = "0123456789"
        for index, phone in enumerate(phones):
            open_draw_page(phone, url)
            touch_digit(phone, digits[index % 10], x=0.2, y=0.12, size=0.72)
            settled_prediction(phone, digits[index % 10])
        print(f"{visitors} phones have drawn; server RSS {rss_mb(server.pid):.0f} MB")

        alone: list[float] = []
        share_rounds(phones[:1], 5, every, alone)
        baseline = delays(wall, alone, 1)
        crowd: list[float] = []
        started = time.time()
        share_rounds(phones, round(seconds / every), every, crowd)
        crowded = delays(wall, crowd, 1 + len(alone))
        running = False
        during = [mb for t, mb in memory if t >= started]
        alone_p95, crowd_p95 = percentile(baseline, 0.95), percentile(crowded, 0.95)
        print(
            f"\nOne visitor sharing alone ({len(baseline)} shares): wall delay p50 "
            f"{statistics.median(baseline):.2f} s, p95 {alone_p95:.2f} s"
        )
        print(
            f"{visitors} visitors sharing every {every:g} s for {seconds:g} s ({len(crowded)} shares): wall delay "
            f"p50 {statistics.median(crowded):.2f} s, p95 {crowd_p95:.2f} s, max {max(crowded):.2f} s "
            f"(p95 {crowd_p95 / alone_p95:.2f}× alone)"
        )
        quarters = " → ".join(f"{during[round(q * (len(during) - 1))]:.0f}" for q in (0, 0.25, 0.5, 0.75, 1))
        print(
            f"Server RSS while they share, by quarter: {quarters} MB; peak {max(during):.0f} MB "
            f"(the wall's {len(crowded)} pictures: {len(crowded) * 28 * 28 / 1024:.0f} KB)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    main(args.visitors, args.seconds, args.every)
