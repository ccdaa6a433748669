"""On stage and on phones, in a real browser: finger drawing, the presenter view, the room's wall, offline pages."""

from urllib.parse import urlsplit

import pytest

from harness.browser import (
    CANVAS,
    IDLE,
    PHONE,
    ROOT,
    browser_page,
    browser_pages,
    draw_digit,
    open_draw_page,
    running_app,
    settled_prediction,
    touch_digit,
    wait_idle,
)

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "artifacts"
KEY = "speaker-only"
PAGES = ["", "teach", "train", "remember", "compress", "evaluate", "trust", "explain", "attack", "room", "about"]


@pytest.fixture(scope="module")
def app_url():
    with running_app(env={"DIGITLAB_PRESENTER_KEY": KEY, "DIGITLAB_PUBLIC_URL": "http://digitlab.example/"}) as url:
        yield url


def scrolled(page) -> float:
    """How far the page has scrolled: Streamlit scrolls its main area, not the document."""
    return page.evaluate(
        "Math.max(window.scrollY, ...[...document.querySelectorAll('*')].filter(e => e.scrollTop > 0)"
        ".map(e => e.scrollTop), 0)"
    )


def test_a_phone_draws_ten_digits_with_a_finger_and_sees_each_reading_without_scrolling(app_url):
    with browser_page(**PHONE) as page:
        open_draw_page(page, app_url)
        box = page.locator(CANVAS).first.bounding_box()
        assert box["width"] >= 300 and box["x"] + box["width"] <= PHONE["width"]  # near the screen's width
        before = scrolled(page)
        clear = page.get_by_role("button", name="Clear", exact=True)  # the canvas's toolbar needs a hover
        for digit in "0123456789":
            assert clear.is_visible() and clear.bounding_box()["height"] >= 44
            clear.click()
            wait_idle(page)
            assert settled_prediction(page, None) is None
            page.wait_for_timeout(500)  # the new canvas mounts
            touch_digit(page, digit, x=0.2, y=0.12, size=0.72)
            assert settled_prediction(page, digit) == digit
            reading = page.get_by_test_id("digitlab-reading").first
            assert reading.inner_text() == digit
            top = reading.bounding_box()
            assert top["y"] >= 0 and top["y"] + top["height"] <= PHONE["height"]  # in view while drawing
            assert scrolled(page) == before  # the finger drew; it did not scroll the page
        page.screenshot(path=SCREENSHOTS / "draw-touch-390x844.png")
        assert page.get_by_role("button", name="Share with the room").bounding_box()["height"] >= 44  # thumb-sized


def test_three_visitors_share_and_only_the_presenter_clears_the_wall(app_url):
    with browser_pages({}, PHONE, PHONE) as (wall, first, second):
        wall.goto(f"{app_url}/room")
        wall.wait_for_selector(IDLE, timeout=90_000)
        for visitor, digit in ((first, "7"), (second, "1")):
            open_draw_page(visitor, app_url)
            touch_digit(visitor, digit, x=0.2, y=0.12, size=0.72)
            assert settled_prediction(visitor, digit) == digit
            visitor.get_by_role("button", name="Share with the room").click()
            visitor.get_by_text("Shared with the room.").wait_for(timeout=10_000)  # the server has it
            wall.locator(f'figure[aria-label$="read {digit}, meant {digit}"]').wait_for(timeout=3_000)  # within 3 s
        assert wall.locator("figure").count() == 2
        wall.screenshot(path=SCREENSHOTS / "room-1280x720.png")

        second.get_by_role("link", name="See the room's wall").click()  # in the same session
        second.get_by_role("heading", name="The room").wait_for(timeout=30_000)
        wait_idle(second)
        second.get_by_text("Presenter", exact=True).click()  # a visitor without the key cannot clear the wall
        second.get_by_label("Presenter key", exact=True).fill("a guess")
        second.keyboard.press("Enter")
        second.get_by_text("That is not the presenter key.").wait_for(timeout=10_000)
        assert second.get_by_role("button", name="Clear the wall").count() == 0
        second.get_by_role("button", name="Take back #2 (read 1)").click()  # but may take back their own
        wall.locator("figure").nth(1).wait_for(state="detached", timeout=5_000)

        wall.get_by_text("Presenter", exact=True).click()
        wall.get_by_label("Presenter key", exact=True).fill(KEY)
        wall.keyboard.press("Enter")
        wall.get_by_role("button", name="Clear the wall").click()
        wall.get_by_text("Nothing shared yet").wait_for(timeout=5_000)


def test_the_presenter_view_reads_from_the_back_of_the_hall_and_shows_the_join_code(app_url):
    with browser_page() as page:
        page.goto(f"{app_url}/?talk=1")
        page.wait_for_selector(IDLE, timeout=90_000)
        page.locator(CANVAS).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert page.get_by_text("http://digitlab.example/").is_visible()
        assert page.locator("[data-testid=stSidebar]").get_attribute("data-collapsed") == "true"
        draw_digit(page, "7", x=0.15, y=0.15, size=0.7)
        reading = page.get_by_test_id("digitlab-reading").last
        reading.wait_for(timeout=20_000)
        assert reading.inner_text() == "7"
        # A digit's glyph is ~0.7 of its font size: at 13rem (208 px) it stands ~145 px tall.
        assert float(reading.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) * 0.7 >= 120
        box = reading.bounding_box()
        assert box["y"] + box["height"] <= 720
        page.screenshot(path=SCREENSHOTS / "presenter-1280x720.png")


def test_every_page_fits_a_phone_and_fetches_nothing_from_the_internet(app_url):
    hosts = set()
    with browser_pages({"width": 360, "height": 740}, PHONE, {}) as (narrow, phone, laptop):
        for page in (narrow, phone, laptop):
            page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
        for path in PAGES:
            for page, name in ((narrow, None), (phone, "390x844"), (laptop, "1280x720")):
                page.goto(f"{app_url}/{path}")
                page.wait_for_selector(IDLE, timeout=90_000)
                wait_idle(page)
                page.wait_for_timeout(500)  # charts and images settle
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"/{path} scrolls sideways by {overflow} px at {page.viewport_size['width']}"
                assert not page.locator("[data-testid=stException]").count()
                if name == "390x844":  # thumb-sized: every segmented control's buttons too
                    heights = page.locator("[data-testid=stButtonGroup] button").evaluate_all(
                        "buttons => buttons.map(b => b.getBoundingClientRect().height)"
                    )
                    assert all(height >= 47.5 for height in heights if height), (path, heights)  # 0: in a closed tab
                if name:
                    page.screenshot(path=SCREENSHOTS / f"page-{path or 'draw'}-{name}.png")
    assert hosts <= {"localhost", "127.0.0.1", None}, hosts  # fonts, scripts, images and QR codes: all local
