"""The talk: its chapters as data, the stage the room follows, a presenter leading three phones in a real browser."""

import asyncio
import threading
import time

import pytest

from core import talk
from core.follow import Stage
from core.talk import CHAPTERS
from harness.browser import IDLE, ROOT, browser_pages, running_app, wait_idle
from harness.visitor import Visitor

SCREENSHOTS = ROOT / "artifacts"
KEY = "speaker-only"


def test_the_page_registry_holds_every_page_script_once_and_each_chapter_has_a_takeaway_and_a_question():
    from core.pages import PAGES, SECTIONS

    assert sorted(page.file for page in PAGES) == sorted(
        f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")
    )
    assert all(page.section in SECTIONS for page in PAGES) and sum(page.default for page in PAGES) == 1
    places = sorted(page.chapter.place for page in PAGES if page.chapter)
    assert places == list(range(1, len(CHAPTERS) + 1))  # each place in the talk once
    assert len({chapter.id for chapter in CHAPTERS}) == len(CHAPTERS)
    for chapter in CHAPTERS:
        assert chapter.takeaway.endswith(".") and chapter.question.endswith("?"), chapter.id
    assert [chapter.id for chapter in CHAPTERS][:2] == ["draw", "evaluate"] and CHAPTERS[-1].id == "data"


def test_a_speaker_chooses_and_orders_chapters_and_a_typo_is_told_not_dropped():
    assert talk.path(None) == talk.path("") == CHAPTERS
    chosen = talk.path("room, Draw,attack")
    assert [chapter.id for chapter in chosen] == ["room", "draw", "attack"]
    assert talk.spec(chosen) == "room,draw,attack" and talk.spec(CHAPTERS) == ""
    with pytest.raises(ValueError, match="no chapter called 'atack'.*draw"):
        talk.path("draw,atack")
    with pytest.raises(ValueError, match="characters"):
        talk.path("draw," * 200)
    with pytest.raises(ValueError, match="at most"):
        talk.path(",".join(["draw"] * (talk.MAX_CHAPTERS + 1)))


def test_the_chapter_shown_comes_from_the_link_if_it_is_on_this_page_else_from_the_page():
    chosen = talk.path("draw,attack,draw,room")
    assert talk.position(chosen, "attack", "attack") == 1
    assert talk.position(chosen, None, "room") == 3
    assert talk.position(chosen, "room", "draw") == 0  # a stale ?chapter= of another page: the page decides
    assert talk.position(chosen, None, "trust") == 0  # a page outside the chosen talk: its first chapter


def test_the_stage_moves_only_to_chapters_and_counts_followers_within_bounds():
    stage = Stage()
    assert stage.now() == (0, None)
    assert stage.go("attack") == 1 and stage.go("attack") == 1  # the same chapter again is no move
    assert stage.go("room") == 2 and stage.now()[1].id == "room"
    with pytest.raises(ValueError):
        stage.go("<script>")
    now = time.monotonic()
    for index in range(Stage.MAX_FOLLOWERS + 100):
        stage.seen(f"phone-{index}", now)
    assert stage.followers(now) == Stage.MAX_FOLLOWERS  # memory bounded whatever a crowd of tokens sends
    stage.seen("late", now + Stage.FOLLOWER_SECONDS + 1)  # the others have gone quiet: room for a new phone
    assert stage.followers(now + Stage.FOLLOWER_SECONDS + 1) == 1


def test_after_a_move_the_phones_wait_for_the_presenters_page_but_never_long():
    stage = Stage()
    stage.go("attack")
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (stage.wait_settled(60, 0.0), done.set()), daemon=True)
    waiter.start()
    assert not done.wait(0.5)  # the presenter's page has not run yet: the phone waits
    stage.settled(time.time())
    assert done.wait(10)
    stage.go("attack")  # the same chapter again is no move: nobody waits
    started = time.monotonic()
    stage.wait_settled(60, 0.0)
    stage.go("room")  # a presenter whose page never finishes holds a phone at most the bound
    stage.wait_settled(0.2, 0.0)
    assert time.monotonic() - started < 30


def test_servers_sharing_a_stage_file_follow_one_presenter_and_count_each_others_phones(tmp_path):
    here, there = Stage(tmp_path / "stage"), Stage(tmp_path / "stage")  # two servers of one room
    assert there.now() == (0, None)  # no talk yet
    assert here.go("attack") == 1
    assert there.now()[0] == 1 and there.now()[1].id == "attack"  # a phone on the other server sees the move
    done, elsewhere = threading.Event(), threading.Event()
    threading.Thread(target=lambda: (here.wait_settled(60, 0.0), done.set()), daemon=True).start()
    threading.Thread(target=lambda: (there.wait_settled(60, 0.0), elsewhere.set()), daemon=True).start()
    assert elsewhere.wait(10)  # the other server's phones go at once: they do not hold up the projector's server
    assert not done.wait(0.5)  # the presenter's page has not run: the phones on its server wait
    here.settled(time.time())
    assert done.wait(10)
    assert there.go("room") == 2 and here.now()[1].id == "room"  # one version for the room, whoever moves
    now = time.monotonic()
    here.seen("phone-1", now)
    there.seen("phone-2", now)
    there.seen("phone-3", now + Stage.COUNT_SECONDS)  # a server tells its count once a second
    later = now + Stage.COUNT_SECONDS
    assert here.followers(later) == 3 and there.followers(later) == 3  # the presenter counts the whole room

    # Phones a server reruns at each move never look: its push thread tells their number (ui/push.py).
    here.listening(120, later)
    there.listening(200, later + Stage.COUNT_SECONDS)
    last = later + Stage.COUNT_SECONDS
    assert here.room(last) == (1 + 120 + 2 + 200, 2) == there.room(last)  # phones, and the servers they are on
    here.listening(10**9, last + Stage.COUNT_SECONDS)  # a count out of reason is bounded
    assert here.followers(last + Stage.COUNT_SECONDS) <= Stage.MAX_FOLLOWERS + 1 + 202


def test_servers_moving_a_shared_stage_at_once_never_give_one_version_two_chapters(tmp_path):
    servers = [Stage(tmp_path / "stage") for _ in range(4)]  # each with its own lock: only the file's lock is shared
    moves: list[tuple[int, str]] = []

    def move(stage: Stage, seed: int) -> None:
        for index in range(60):
            chapter = ("attack", "room", "trust")[(index + seed) % 3]
            moves.append((stage.go(chapter), chapter))

    threads = [threading.Thread(target=move, args=(stage, seed)) for seed, stage in enumerate(servers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chapters_by_version: dict[int, set[str]] = {}
    for version, chapter in moves:
        chapters_by_version.setdefault(version, set()).add(chapter)
    assert all(len(chapters) == 1 for chapters in chapters_by_version.values())  # no move lost to another's
    assert max(chapters_by_version) == servers[0].now()[0]


def test_a_shared_stage_file_that_is_garbled_foreign_or_a_past_talks_is_not_followed(tmp_path):
    shared = tmp_path / "stage"
    here = Stage(shared)
    here.go("attack")
    shared.write_text("{not json")
    assert Stage(shared).now() == (0, None) and here.now()[1].id == "attack"  # what each last read stands
    shared.write_text('{"version": 9, "chapter": "<script>", "settled": true, "settled_at": 0, "moved_at": 0}')
    assert Stage(shared).now() == (0, None)
    past = time.time() - Stage.STALE_SECONDS - 60
    shared.write_text(f'{{"version": 4, "chapter": "room", "settled": true, "settled_at": {past}, "moved_at": {past}}}')
    late = Stage(shared)
    assert late.now() == (4, None)  # a server started after an old talk does not send its phones there
    assert late.go("room") == 5 and late.now()[1].id == "room"  # the new talk's first move counts, same chapter or not


def test_a_leading_presenters_run_lets_the_room_follow_once_its_page_has_run(monkeypatch):
    from streamlit.testing.v1 import AppTest

    import ui.stage
    from ui.follow import stage

    monkeypatch.setattr(ui.stage, "PRESENTER_KEY", KEY)
    ui.stage._key_guard.clear()  # made with this key
    stage.clear()  # this process's stage: a talk of its own
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params.update({"talk": "1", "chapters": "draw,compress"})
        app.session_state["talk_key"] = KEY
        for page, chapter in (("draw", "draw"), ("compress", "compress")):  # Compress stops early (no variants yet)
            app.switch_page(f"app_pages/{page}.py").run()  # the presenter's page after a Next
            assert not app.exception
            assert stage().now()[1].id == chapter
            done = threading.Event()
            threading.Thread(target=lambda done=done: (stage().wait_settled(60, 0.0), done.set()), daemon=True).start()
            assert done.wait(10), chapter  # its run has ended: the phones may run the chapter
    finally:
        stage.clear()
        ui.stage._key_guard.clear()


def on_page(page, path: str, timeout: float = 10_000) -> None:
    """Wait until the page shows /path (Streamlit moves with the history API, which page.url does not follow)."""
    page.wait_for_function("path => location.pathname.endsWith('/' + path)", arg=path, timeout=timeout)


@pytest.mark.browser
def test_a_presenter_leads_three_pushed_phones_and_a_polling_one_through_three_chapters():
    """Three phones the server reruns at each move (issue 49), and a fourth that polls as where it cannot."""
    env = {"DIGITLAB_PRESENTER_KEY": KEY, "DIGITLAB_PUBLIC_URL": "http://digitlab.example/"}
    phone = {"width": 390, "height": 844}
    with (
        running_app(env=env) as url,
        browser_pages({"width": 1920, "height": 1080}, phone, phone, phone, phone) as pages,
    ):
        presenter, *phones = pages
        presenter.goto(f"{url}/?talk=1&chapters=draw,evaluate,remember")
        presenter.wait_for_selector(IDLE, timeout=90_000)
        for follower, how in zip(phones, ("1", "1", "1", "poll"), strict=True):
            follower.goto(f"{url}/?follow={how}")
            follower.get_by_text("Following the talk").wait_for(timeout=60_000)
        presenter.get_by_role("button", name="Talk").click()
        presenter.get_by_label("Presenter key: phones that joined follow your chapters", exact=True).fill(KEY)
        presenter.keyboard.press("Enter")
        presenter.get_by_text("You lead the room").wait_for(timeout=10_000)
        presenter.get_by_text("4 phone(s) following").wait_for(timeout=10_000)
        presenter.get_by_role("button", name="Talk", exact=True).click()  # the popover closes

        for chapter, path in (("How it errs", "evaluate"), ("And forgetting", "remember")):
            wait_idle(presenter)
            presenter.get_by_role("button", name="Next").click()
            presenter.locator(".digitlab-talk-title", has_text=chapter).wait_for(timeout=30_000)
            for follower in phones:  # how fast is bench/followers.py's: here five browsers share 2 cores with a test
                on_page(follower, path, timeout=30_000)
        phones[2].get_by_role("button", name="Stop following").click()
        phones[2].get_by_text("Following the talk").wait_for(state="detached", timeout=10_000)
        assert presenter.get_by_role("button", name="Next").is_disabled()  # the chosen talk's last chapter
        # The phone says where the talk is (Remember's opening on fine-tuning: tests/test_prepared.py).
        phones[0].get_by_text("Following the talk: And forgetting").wait_for(state="attached", timeout=30_000)
        presenter.keyboard.press("ArrowLeft")  # the arrow keys drive the talk too
        presenter.locator(".digitlab-talk-title", has_text="How it errs").wait_for(timeout=30_000)
        on_page(phones[0], "evaluate")
        on_page(phones[3], "evaluate")
        time.sleep(1)
        assert phones[2].evaluate("location.pathname").endswith("/remember")  # it stayed where it stopped following
        presenter.screenshot(path=SCREENSHOTS / "talk-presenter-1920x1080.png")
        phones[0].screenshot(path=SCREENSHOTS / "talk-follower-390x844.png")
        assert KEY not in str(presenter.context.cookies())  # the browser keeps a signed token, never the key
        presenter.reload()  # a new session: the token, not the key, makes it the presenter again
        presenter.wait_for_selector(IDLE, timeout=90_000)
        presenter.get_by_role("button", name="Talk").click()
        presenter.get_by_text("You lead the room").wait_for(timeout=10_000)


@pytest.mark.parametrize(
    "page, screen, height", [("evaluate", "720", 270), ("evaluate", "1080", 460), ("trust", "720", 270)]
)
def test_a_chapters_chart_fits_under_the_bar_on_a_720_line_projector(page, screen, height):
    import json

    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update({"talk": "1", "screen": screen})
    app.run()
    app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["height"] == height


@pytest.mark.parametrize("talking", [True, False])
def test_explains_five_maps_come_right_under_the_pictures_choice_on_a_projector(talking):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if talking:
        app.query_params.update({"talk": "1", "screen": "720"})
    app.run()
    app.switch_page("app_pages/explain.py").run()
    assert not app.exception and not app.error

    def in_order(node):  # the page's elements as they are drawn, top to bottom
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                yield from in_order(child)
        else:
            yield node

    said = [getattr(node, "label", None) or getattr(node, "value", None) for node in in_order(app.main)]
    maps, reading = said.index("**Gradient saliency**"), said.index("Prediction")
    assert (maps < reading) == talking  # on the projector the chapter's point first, in view; on a laptop the reading


def test_a_phone_follows_until_it_is_on_the_chapter_and_then_may_wander():
    from streamlit.testing.v1 import AppTest

    from ui.follow import stage

    stage.clear()  # this process's stage: a talk of its own
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params["follow"] = "1"
        app.run()
        assert app.session_state["follower_page"] == "draw"
        assert not app.sidebar.get("page_link")  # the talk chooses its page: no links to run for every phone
        version = stage().go("attack")
        app.run()  # the page's run sees the move and switches
        assert not app.exception
        assert (app.session_state["follower_page"], app.session_state["followed_version"]) == ("attack", version)

        # A request the phone sent from its old page while the switch ran took it back there: it moves again.
        del app.session_state["followed_version"]
        app.switch_page("app_pages/trust.py").run()
        assert app.session_state["follower_page"] == "attack"

        # Once there, the phone may look elsewhere until the presenter moves on.
        app.switch_page("app_pages/trust.py").run()
        assert app.session_state["follower_page"] == "trust"
        stage().go("remember")
        app.run()
        assert app.session_state["follower_page"] == "remember"

        app.button(key="stop_following").click().run()  # free again: every page a link away
        assert len(app.sidebar.get("page_link")) >= 14 and app.sidebar.get("file_uploader")
    finally:
        stage.clear()


def test_the_server_reruns_its_following_phones_when_the_presenter_moves_and_idle_they_run_nothing():
    """Issue 49: a phone that follows costs no script run until the presenter moves; one that polls (?follow=poll,
    as where the server cannot push) still follows."""

    async def hall(url: str) -> None:
        presenter = Visitor(url, query="talk=1&chapters=draw,evaluate,remember")
        await presenter.open()
        await presenter.type("Presenter key: phones that joined follow your chapters", KEY)
        pushed = [Visitor(url, query="follow=1") for _ in range(3)]
        polling = Visitor(url, query="follow=poll")
        phones = [*pushed, polling]
        try:
            for phone in phones:
                await phone.open()
            assert not any(phone.ticking for phone in pushed) and polling.ticking
            idle = [ran(runs) for runs in await asyncio.gather(*(phone.watch(3.0) for phone in phones))]
            assert idle[:3] == [0, 0, 0] and idle[3] >= 2, idle
            looked = await presenter.rerun(query="talk=1&chapters=draw,evaluate,remember")
            assert any("4 phone(s) following" in text for text in looked.texts), looked.texts

            pressed = time.perf_counter()
            await presenter.press("Next")
            await asyncio.gather(*(phone.watch(8.0) for phone in phones))
            for phone in phones:
                assert any(at > pressed and path.endswith("evaluate") for at, path in phone.finished), phone.pages

            await pushed[0].press("Stop following")
            pressed = time.perf_counter()
            await presenter.press("Next")
            moved = await asyncio.gather(*(phone.watch(8.0) for phone in phones))
            assert not ran(moved[0]) and pushed[0].pages[-1][1].endswith("evaluate")  # it stays where it stopped
            for phone in phones[1:]:
                assert any(at > pressed and path.endswith("remember") for at, path in phone.finished), phone.pages
        finally:
            for visitor in [presenter, *phones]:
                await visitor.close()

    with running_app(env={"DIGITLAB_PRESENTER_KEY": KEY}) as url:
        asyncio.run(hall(url))


def ran(runs: list) -> int:
    """Script runs among what a tab received (not stray messages after a run's end)."""
    return sum(run.finished is not None for run in runs)


def test_the_presenters_first_page_loads_the_chart_library_in_a_hidden_chart_once():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["talk"] = "1"
    app.run()  # Draw: no chart of its own
    assert len(app.get("plotly_chart")) == 1
    assert ".st-key-digitlab-warm-charts { display: none; }" in "".join(html.proto.body for html in app.get("html"))
    app.run()
    assert not app.get("plotly_chart")  # the browser has it now


def test_the_pre_talk_check_names_missing_prepared_results_and_the_chapters_not_yet_run():
    from streamlit.testing.v1 import AppTest

    from ui import readiness

    readiness._pages_run.clear()  # a server just started
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update({"talk": "1", "chapters": "draw,evaluate"})
    app.run()

    def checks() -> str:
        return "\n".join(m.value for m in app.markdown)

    assert "The prepared results are there and match their models" in checks()
    assert "not yet run on this server: How it errs." in checks()  # Draw has run: this page
    app.switch_page("app_pages/evaluate.py").run()
    assert "Every chapter has run once on this server" in checks()
