"""Digit Lab in two languages in a real browser: the browser's or the link's language, a switch that keeps the
visitor's work, two visitors in two languages on one server, and screenshots of the talk and the pages in Chinese."""

from __future__ import annotations

import pytest

from core.pages import PAGES
from core.talk import CHAPTERS
from harness.browser import (
    IDLE,
    PHONE,
    ROOT,
    browser_page,
    browser_pages,
    draw_digit,
    open_draw_page,
    running_app,
    settled_prediction,
    wait_for_charts,
    wait_idle,
)

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def app_url():
    with running_app(env={"DIGITLAB_PRESENTER_KEY": "KEY"}) as url:
        yield url


def test_a_chinese_browser_reads_chinese_and_a_link_can_say_otherwise(app_url):
    with browser_pages({"locale": "zh-TW"}, {"locale": "zh-CN"}) as (taiwan, china):
        for page in (taiwan, china):
            page.goto(app_url)
            page.get_by_text("在黑色方块上写一个数字").wait_for(timeout=90_000)
        china.goto(f"{app_url}/evaluate?lang=en")
        china.get_by_role("heading", name="Evaluate").wait_for(timeout=60_000)
        china.get_by_role("link", name="Draw").click()  # the app's own page: the link's choice is kept
        china.get_by_text("Draw a digit on the black square").wait_for(timeout=60_000)
        assert "lang=en" in china.url


def test_switching_language_keeps_the_drawing_and_its_reading(app_url):
    with browser_page() as page:
        open_draw_page(page, app_url)
        draw_digit(page, "1", x=0.3, y=0.15, size=0.7)
        assert settled_prediction(page, "1") == "1"
        page.get_by_role("radio", name="中文").click()
        page.get_by_text("网络看到的").wait_for(timeout=30_000)
        wait_idle(page)
        metric = page.locator("[data-testid=stMetric]").filter(has_text="预测")
        assert metric.locator("[data-testid=stMetricValue]").inner_text().strip() == "1"  # the drawing is still read
        assert page.get_by_role("link", name="评估").count() == 1  # the navigation was rebuilt in Chinese
        page.get_by_role("radio", name="English").click()
        page.get_by_text("What the network sees").wait_for(timeout=30_000)
        assert settled_prediction(page, "1") == "1"


def test_two_visitors_on_one_server_each_read_their_own_language_charts_included(app_url):
    with browser_pages({}, {}) as (english, chinese):
        english.goto(f"{app_url}/evaluate?lang=en")
        chinese.goto(f"{app_url}/evaluate?lang=zh")
        for page in (english, chinese):
            page.wait_for_selector(IDLE, timeout=90_000)
            wait_for_charts(page, 1)
        english_chart = english.locator(".js-plotly-plot").first.inner_text()
        chinese_chart = chinese.locator(".js-plotly-plot").first.inner_text()
        assert "predicted digit" in english_chart and "预测数字" not in english_chart
        assert "预测数字" in chinese_chart and "predicted digit" not in chinese_chart
        assert "混淆矩阵" not in english.locator("[data-testid=stMain]").inner_text()
        assert "混淆矩阵" in chinese.locator("[data-testid=stMain]").inner_text()


def test_every_chapter_of_the_talk_in_chinese_on_a_projector(app_url):
    SCREENSHOTS.mkdir(exist_ok=True)
    with browser_page(width=1920, height=1080, locale="zh-CN") as page:
        page.goto(f"{app_url}/?talk=1")
        page.wait_for_selector(IDLE, timeout=90_000)
        for number, chapter in enumerate(CHAPTERS, start=1):
            page.locator(".digitlab-talk-place", has_text=f"第 {number} 章").wait_for(timeout=90_000)
            page.locator(".digitlab-talk-title", has_text=chapter_title(chapter)).wait_for(timeout=30_000)
            wait_idle(page, timeout=120_000)
            page.screenshot(path=SCREENSHOTS / f"talk-zh-{number:02d}-{chapter.id}-1920x1080.png")
            overflowing = page.evaluate(
                "[...document.querySelectorAll('.digitlab-talk-title, .digitlab-talk-takeaway, "
                "[data-testid=stButton] button')].filter(e => e.scrollWidth > e.clientWidth + 1).length"
            )
            assert overflowing == 0, chapter.id
            if number < len(CHAPTERS):
                page.get_by_role("button", name="下一章").click()


def chapter_title(chapter) -> str:
    from core import i18n
    from core.i18n import _

    with i18n.speaking("zh"):
        return _(chapter.title)


@pytest.mark.parametrize("page_name", [page.name for page in PAGES])
def test_every_page_in_chinese_fits_a_phone(app_url, page_name):
    SCREENSHOTS.mkdir(exist_ok=True)
    with browser_page(**PHONE, locale="zh-CN") as page:
        page.goto(f"{app_url}/{'' if page_name == 'draw' else page_name}")
        page.wait_for_selector(IDLE, timeout=120_000)
        page.wait_for_timeout(1000)
        wait_idle(page, timeout=120_000)
        page.screenshot(path=SCREENSHOTS / f"phone-zh-{page_name}.png", full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 1, f"{page_name} scrolls sideways by {wide} px"
