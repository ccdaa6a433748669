"""A phone following the talk: it joined by the QR code, and its page moves to the presenter's chapter.

The server reruns a following phone's page when the presenter moves (ui/push.py); a phone polls the stage every
second instead where the server cannot (another Streamlit, a full list) or when its link asks (`?follow=poll`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.follow import Stage
from core.i18n import _
from core.talk import Chapter
from ui.push import Push
from ui.stage import visitor_token

FOLLOW_SECONDS = 1.0  # how often a follower's page asks whether the presenter moved: within 2 s of a Next
# After a Next, a phone runs the chapter only once the presenter's page has run and its messages have left the server:
# a room's runs would otherwise queue before the projector's chart.
SETTLE_SECONDS = 1.0  # at most this long
FLUSH_SECONDS = 0.05  # after the presenter's run


@st.cache_resource(show_spinner=False)
def stage() -> Stage:
    """This server's stage: where the keyed presenter is, for every follower; shared through the file
    `DIGITLAB_STAGE` names by the servers of one room (docs/deploy.md, "A full hall")."""
    return Stage(os.environ.get("DIGITLAB_STAGE") or None)


@st.cache_resource(show_spinner=False)
def push() -> Push | None:
    """This server's push to the following phones; None where Streamlit's runtime does not allow it (then they
    poll)."""
    try:
        return Push(stage(), Runtime.instance())
    except (RuntimeError, AttributeError):  # no server running (AppTest), or a Streamlit without these insides
        return None


def following() -> bool:
    """Whether this visitor is a phone following the talk (it joined by the QR code and has not stopped)."""
    how = st.query_params.get("follow")
    if how in ("1", "poll") and "following" not in st.session_state:
        st.session_state.following, st.session_state.follow_by_polling = True, how == "poll"
    return bool(st.session_state.get("following"))


def follow_first(page: str) -> None:
    """As soon as the run's page is known (`page`, its name): a following phone the presenter has moved goes straight
    to the chapter, so the run the server pushed (ui/push.py) lays out nothing more of the page it leaves."""
    if following():
        st.session_state.follower_page = page
        _follow_the_presenter()


def _listens() -> bool:
    """Whether the server reruns this following phone when the presenter moves (it is listed now); else it polls."""
    context = get_script_run_ctx()
    if st.session_state.get("follow_by_polling") or context is None or push() is None:
        return False
    return push().listen(context.session_id, st.session_state.get("followed_version", -1))


def when_page_ran() -> Callable[[], None]:
    """What to call once this visitor's page has run (or stopped): if they are a listed following phone, the push
    may then rerun the next phone in their place. Asked before the page: after a st.stop() nothing of Streamlit's is
    called."""
    context, pushing = get_script_run_ctx(), push()
    if st.session_state.get("following") and context is not None and pushing is not None:
        return lambda: pushing.ran(context.session_id)
    return lambda: None


def follower_bar() -> None:
    """A phone that joined by the QR code: a line saying it follows, a way out, and a cheap watch of the stage. Where
    it should be, follow_first saw to earlier in the run."""
    if not following():
        return
    chapter = stage().now()[1]
    words, leave = st.columns([3, 1], vertical_alignment="center")
    if chapter:
        where = _("Following the talk: **{title}**. {takeaway}").format(
            title=_(chapter.title), takeaway=_(chapter.takeaway)
        )
    else:
        where = _("Following the talk (it has not started).")
    words.caption(
        ":material/cast: {} {}".format(where, _("Try it yourself here; the page moves on when the speaker does."))
    )
    leave.button(_("Stop following"), icon=":material/close:", key="stop_following", on_click=_stop_following)
    if not _listens():
        _watch()


def _stop_following() -> None:
    """Run before the page's next run (a callback): a move of the talk in that run cannot swallow the press."""
    st.session_state.following = False
    st.query_params.pop("follow", None)
    context = get_script_run_ctx()
    if push() is not None and context is not None:
        push().leave(context.session_id)


@st.fragment(run_every=FOLLOW_SECONDS)
def _watch() -> None:
    """Every second: has the presenter moved since this phone followed? Draws nothing; only a move changes the page."""
    if not st.session_state.get("following"):
        return
    stage().seen(visitor_token(), time.monotonic())
    _follow_the_presenter()


def _follow_the_presenter() -> Chapter | None:
    """Go to the presenter's chapter if they moved since this phone last followed; the chapter they are on.

    A move counts as followed once this phone's page is the chapter's, not when the switch is asked for: a request
    the phone sent from its old page while the switch ran (a timer's, a press) can take it back there, and it
    would then stay behind for the rest of the chapter."""
    version, chapter = stage().now()
    if chapter is None or version == st.session_state.get("followed_version"):
        return chapter
    if st.session_state.get("follower_page") == Path(chapter.page).stem:
        st.session_state.followed_version = version  # here, or already here when the presenter came
    else:
        stage().wait_settled(SETTLE_SECONDS, FLUSH_SECONDS)  # the projector's chapter first
        st.switch_page(chapter.page, query_params={"chapter": chapter.id, **chapter.state})
    return chapter
