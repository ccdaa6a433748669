"""The talk on screen: the presenter's bar on every page (chapter, takeaway, next and previous, the join code), the
projector's layout, and the phones that follow the presenter from chapter to chapter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import plotly.graph_objects as go
import streamlit as st

from core import talk
from core.follow import Stage
from core.i18n import N_, _
from core.lan import lan_addresses
from core.talk import Chapter
from ui.follow import stage, when_page_ran
from ui.readiness import prepared_check, warm_check
from ui.runs import line_panel
from ui.stage import join_code, presenter, public_url
from ui.text import as_text

SCREENS = {1080: N_("1920×1080 projector"), 720: N_("1280×720 laptop or projector")}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}
TALK_PARAMS = ("talk", "chapters", "screen", "chapter")
TALK_720_FIGURE_HEIGHT = 270  # under the bar (about 200 px) and a row of controls at 1280x720


def presenting() -> bool:
    """Whether this visitor is presenting (`?talk=1`, kept for the session until they leave the talk)."""
    if st.query_params.get("talk") == "1":
        st.session_state.talk = True
    return bool(st.session_state.get("talk"))


def screen() -> int:
    """The screen the presenter named (`?screen=720` or 1080, the default): the server cannot see the window."""
    value = st.query_params.get("screen") or st.session_state.get("talk_screen")
    st.session_state.talk_screen = chosen = int(value) if value in ("720", "1080", 720, 1080) else 1080
    return chosen


def small_projector() -> bool:
    """Whether this visitor presents on a 1280x720 screen: where a chapter's point must fit under the bar."""
    return presenting() and screen() == 720


def chapter_height() -> int | None:
    """The height a chapter's chart must keep to fit whole under the presenter's bar; None where any height fits."""
    return TALK_720_FIGURE_HEIGHT if small_projector() else None


def talk_params() -> dict[str, str]:
    """The query parameters a presenter's page keeps through navigation (none outside a talk)."""
    if not presenting():
        return {}
    kept = {"talk": "1", "screen": str(screen())}
    if st.session_state.get("talk_chapters"):
        kept["chapters"] = st.session_state.talk_chapters
    return kept


def _style(size: int) -> str:
    base = 21 if size == 1080 else 16  # px: the root size every rem of Streamlit's type follows
    return f"""<style>
html {{ font-size: {base}px; }}
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], [data-testid=stHeader] {{ display: none; }}
[data-testid=stMainBlockContainer] {{ padding: 0.6rem 2rem 1rem; max-width: 100%; }}
[data-testid=stMain] [data-testid=stCaptionContainer] {{ color: inherit; }}  /* full contrast on a washed-out wall */
/* the bar carries the chapter's title and takeaway: the page's own title and the caption under it give way */
[data-testid=stMain] [data-testid=stElementContainer]:has(h1),
[data-testid=stMain] [data-testid=stElementContainer]:has(h1) + [data-testid=stElementContainer]:has(
  [data-testid=stCaptionContainer]) {{ display: none; }}
.digitlab-talk-title {{ font-size: 2.1rem; font-weight: 800; line-height: 1.1; margin: 0; }}
.digitlab-talk-takeaway {{ font-size: 1.25rem; font-weight: 600; margin: 0.3rem 0 0; }}
.digitlab-talk-question {{ font-size: 1rem; margin: 0.2rem 0 0; }}
.st-key-digitlab-warm-charts {{ display: none; }}
.digitlab-talk-place {{ font-size: 0.8rem; letter-spacing: 0.04em; text-transform: uppercase; }}
</style>"""


def _chapters_from_link() -> tuple[Chapter, ...]:
    given = st.query_params.get("chapters")
    if given is not None:
        st.session_state.talk_chapters = given
    try:
        return talk.path(st.session_state.get("talk_chapters"))
    except ValueError as error:
        st.warning(
            _("The link's chapter list: {error}. The talk shows every chapter.").format(error=as_text(error)),
            icon=":material/warning:",
        )
        st.session_state.talk_chapters = ""
        return talk.CHAPTERS


def _go(chapter: Chapter) -> None:
    st.switch_page(chapter.page, query_params={**talk_params(), "chapter": chapter.id, **chapter.state})


def join_url() -> tuple[str, bool]:
    """(the address the room joins by, whether phones can reach it): DIGITLAB_PUBLIC_URL, the chosen LAN address,
    or the address this browser is on."""
    url = public_url()
    parts = urlsplit(url)
    if (parts.hostname or "") not in LOCAL_HOSTS:
        return url, True
    chosen = st.session_state.get("join_address")
    if chosen:
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme or "http", f"{chosen}{port}", "/", "", "")), True
    return url, False


def follow_link(url: str) -> str:
    """The address a phone opens from the QR code: it follows the presenter."""
    return url.rstrip("/") + "/?follow=1"


def join_panel(*, width: int) -> None:
    """The QR code phones join and follow by, and its address in words."""
    url, reachable = join_url()
    if not url:
        return
    st.image(join_code(follow_link(url)), width=width, caption=_("Follow on your phone"))


def join_words(url: str, reachable: bool) -> None:
    words = _("Join: **{url}**").format(url=url)
    if not reachable:
        words += " · :red[:material/wifi_off: {}]".format(
            _("a local address, phones cannot reach it: Talk settings offer others")
        )
    st.caption(words)


def _settings(chapters: tuple[Chapter, ...]) -> None:
    with st.popover(_("Talk"), icon=":material/settings:", width="stretch", help=_("Talk settings")):
        choice = st.radio(
            _("Screen"),
            list(SCREENS),
            format_func=lambda size: _(SCREENS[size]),
            index=list(SCREENS).index(screen()),
            horizontal=True,
            key="talk_screen_choice",
        )
        if choice != screen():
            st.session_state.talk_screen = choice
            st.query_params["screen"] = str(choice)
            st.rerun()
        picked = st.multiselect(
            _("Chapters, in the order you pick them"),
            [chapter.id for chapter in talk.CHAPTERS],
            default=[chapter.id for chapter in chapters],
            format_func=lambda chapter_id: _(talk.BY_ID[chapter_id].title),
        )
        wanted = talk.spec(tuple(talk.BY_ID[chapter_id] for chapter_id in picked)) if picked else ""
        if wanted != (st.session_state.get("talk_chapters") or ""):
            st.session_state.talk_chapters = wanted
            st.query_params["chapters"] = wanted
            st.rerun()
        url, reachable = join_url()
        addresses = lan_addresses()
        if urlsplit(public_url()).hostname in LOCAL_HOSTS:
            if addresses:
                st.selectbox(
                    _("Phones join by"),
                    [None, *addresses],
                    format_func=lambda a: _("this machine only (phones cannot reach it)") if a is None else a,
                    key="join_address",
                    help=_(
                        "Your laptop's address on the hall's network or your phone's hotspot; "
                        "or set DIGITLAB_PUBLIC_URL before starting the app."
                    ),
                )
            else:
                st.warning(_("No network address found: join a network, or set DIGITLAB_PUBLIC_URL."))
        if "talk_key" not in st.session_state:  # a widget's value does not outlive its page: the session keeps it
            st.session_state.talk_key = st.session_state.get("talk_key_kept", "")
        st.session_state.talk_key_kept = st.text_input(
            _("Presenter key: phones that joined follow your chapters"),
            type="password",
            key="talk_key",
            help=_(
                "DIGITLAB_PRESENTER_KEY, or the key the server printed to its log at start. Never put it in the URL."
            ),
        )
        leading, refusal = _leading()
        if refusal:
            st.error(str(refusal))
        st.markdown("**{}**".format(_("Before the talk")))
        followers, servers = stage().room(time.monotonic())
        holds = Stage.PHONES_PER_SERVER * servers
        checks = [
            (
                reachable,
                _("Phones can reach the join address ({url})").format(url=url)
                if reachable
                else _("The join address is local"),
            ),
            (
                followers > 0,
                _("{count} phone(s) following").format(count=followers)
                if followers
                else _("No phone has joined yet: try yours"),
            ),
            (
                followers <= holds,
                _("The room fits: {servers} server(s) hold about {holds} phones").format(servers=servers, holds=holds)
                if followers <= holds
                else _(
                    "More phones than {servers} server(s) hold well (about {holds}): they reach each chapter later. "
                    "Add servers behind the proxy that share the talk's stage (docs/deploy.md)."
                ).format(servers=servers, holds=holds),
            ),
            (
                leading,
                _("You lead the room (key entered)") if leading else _("Enter the key to lead the room's phones"),
            ),
            (True, _("The app is awake (Community Cloud puts apps to sleep after 12 hours without visitors)")),
            prepared_check(),
            warm_check(chapters),
        ]
        for ok, words in checks:
            st.markdown(f"{':material/check_circle:' if ok else ':material/error:'} {words}")
        if leading:
            line_panel()
        if st.button(_("Leave the talk"), icon=":material/logout:"):
            st.session_state.talk = False
            for name in TALK_PARAMS:
                st.query_params.pop(name, None)
            st.rerun()


def _leading() -> tuple[bool, str | None]:
    """(whether this presenter leads the room's phones, why not if they gave a key that does not)."""
    return presenter(st.session_state.get("talk_key", st.session_state.get("talk_key_kept")) or "")


def warm_charts() -> None:
    """A chart nobody sees, in a presenter's first run: their browser loads the chart library (4.7 MB) during the
    first chapter, not when the first chart is due and the room's phones compete for the server."""
    if st.session_state.get("talk_charts_warm"):
        return
    st.session_state.talk_charts_warm = True
    with st.container(key="digitlab-warm-charts"):
        st.plotly_chart(go.Figure(), height=40, config={"staticPlot": True}, key="digitlab_warm_chart")


def presenter_bar(page: str) -> None:
    """The presenter's first rows on every page: where the talk is, its takeaway, the way on, the join code."""
    size = screen()
    st.html(_style(size))
    chapters = _chapters_from_link()
    index = talk.position(chapters, st.query_params.get("chapter"), page)
    chapter = chapters[index]
    st.session_state.talk_leads = _leading()[0]
    if st.session_state.talk_leads:
        stage().go(chapter.id)  # the room's phones follow once this page has run (room_waits)
    words, controls, code = st.columns([5, 2.6, 1.1], vertical_alignment="top")
    with words:
        st.html(
            '<div class="digitlab-talk-place">{}</div>'.format(
                _("Chapter {number} of {count}").format(number=index + 1, count=len(chapters))
            )
            + f'<p class="digitlab-talk-title">{_(chapter.title)}</p>'
            + f'<p class="digitlab-talk-takeaway">{_(chapter.takeaway)}</p>'
            + '<p class="digitlab-talk-question">{}</p>'.format(
                _("Ask the room: {question}").format(question=_(chapter.question))
            )
        )
        join_words(*join_url())
    with controls:
        back, forward, settings = st.columns(3)
        if back.button(
            _("Previous"), icon=":material/arrow_back:", disabled=index == 0, shortcut="Left", width="stretch"
        ):
            _go(chapters[index - 1])
        last = index == len(chapters) - 1
        if forward.button(
            _("Next"), icon=":material/arrow_forward:", disabled=last, shortcut="Right", type="primary", width="stretch"
        ):
            _go(chapters[index + 1])
        with settings:
            _settings(chapters)
        jump = st.selectbox(
            _("Chapter"),
            range(len(chapters)),
            index=index,
            format_func=lambda i: f"{i + 1}. {_(chapters[i].title)}",
            label_visibility="collapsed",
            key=f"talk_jump_{index}",
        )
        if jump != index:
            _go(chapters[jump])
    with code:
        join_panel(width=120 if size == 1080 else 90)


@contextmanager
def room_waits() -> Iterator[None]:
    """Around the presenter's page: the room's phones run the chapter once it has run, stopped early or moved on.
    Nothing of Streamlit's is called after the page: a page's st.stop() stops such a call too."""
    moved = stage() if presenting() and st.session_state.get("talk_leads") else None  # not once they left the talk
    ran = when_page_ran()  # a following phone's: the next phone in the room may run
    try:
        yield
    finally:
        if moved is not None:
            moved.settled(time.time())
        ran()
