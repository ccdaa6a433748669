"""Digit Lab on stage: the presenter view, the address the audience joins by, and the room's shared wall."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import plotly.graph_objects as go
import segno
import streamlit as st

from core import i18n
from core import presenter as presenter_key
from core.figures.bars import probability_list, reading_line
from core.figures.matrices import confusion_heatmap
from core.figures.room import room_wall
from core.i18n import _
from core.reading import Reading
from core.room import Room, Summary
from ui.session import arrived, client_address

PUBLIC_URL = os.environ.get("DIGITLAB_PUBLIC_URL", "").strip()  # the address the audience should open
SHARE_AFTER_SECONDS = 3.0  # a session shares only this long after it began: a new session must cost a client time
log = logging.getLogger("digitlab")


def _presenter_key() -> str:
    """DIGITLAB_PRESENTER_KEY, or a key made now and printed to the server's log: the speaker can always clear."""
    key = os.environ.get("DIGITLAB_PRESENTER_KEY", "").strip()
    if not key:
        key = secrets.token_urlsafe(12)
        log.warning("DIGITLAB_PRESENTER_KEY is not set: this server's presenter key, until it restarts, is %s", key)
    return key


PRESENTER_KEY = _presenter_key()  # lets the speaker clear the wall or hide a drawing


PHONE = "(max-width: 640px)"  # where Streamlit stacks columns: a phone held upright
# The canvas lives in its component's shadow DOM, out of this style's reach: phones get a wider one by its size.
PHONE_STYLE = f"""<style>
[data-testid=stElementContainer]:has(.digitlab-phone-reading) {{ display: none; }}
@media {PHONE} {{
  [data-testid=stElementContainer]:has(.digitlab-phone-reading) {{ display: block; }}
  h1 {{ font-size: 1.8rem !important; padding-top: 0.25rem !important; }}
  .stButton button, .stDownloadButton button, .stLinkButton a,
  [data-testid=stButtonGroup] button {{ min-height: 48px; }}  /* segmented controls: role=radio buttons */
}}
</style>"""


def public_url() -> str:
    """DIGITLAB_PUBLIC_URL, else the address this browser is on, without its path or query."""
    if PUBLIC_URL:
        return PUBLIC_URL
    parts = urlsplit(st.context.url or "")
    return urlunsplit((parts.scheme, parts.netloc, "/", "", "")) if parts.netloc else ""


def join_code(url: str) -> bytes:
    """A QR code of `url` as a PNG, made here (segno): a hall's wifi may not reach any QR service."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2, dark="#000000", light="#ffffff")
    return buffer.getvalue()


@dataclass(frozen=True)
class WallView:
    """One render of the wall, shared by every viewer of the same version."""

    version: int
    summary: Summary
    html: str  # the newest drawings as thumbnails
    confusion: go.Figure  # the room's confusion matrix


_views: dict[tuple[int, str], WallView] = {}  # the latest render, by the number of drawings shown and language
_views_lock = threading.Lock()


def wall_view(count: int) -> WallView:
    """The wall as it is now, rendered once per change of the wall, whoever looks first."""
    version, language = room().version, i18n.language()
    with _views_lock:
        view = _views.get((count, language))
        if view is None or view.version != version:
            summary = room().summary()
            figure = confusion_heatmap(summary.confusion, dim_diagonal=False)
            view = _views[(count, language)] = WallView(version, summary, room_wall(room().latest(count)), figure)
        return view


@st.cache_resource(show_spinner=False)
def room() -> Room:
    """This server's shared wall: the one object every visitor's session reaches."""
    return Room()


def visitor_token() -> str:
    """An opaque token of this visitor, for the wall's rate limit and "take back": never shown."""
    return st.session_state.setdefault("room_token", secrets.token_hex(16))


def share_with_room(reading: Reading) -> int:
    """The Draw page's "Share with the room": which digit the visitor meant (returned), and the share itself."""
    meant_column, button_column = st.columns([1, 1], vertical_alignment="bottom")
    meant = meant_column.selectbox(_("I meant"), range(10), index=reading.digit, key="room_meant")
    if button_column.button(_("Share with the room"), icon=":material/groups:", width="stretch"):
        time.sleep(max(0.0, arrived() + SHARE_AFTER_SECONDS - time.monotonic()))  # only this visitor's thread waits
        try:
            room().share(
                visitor_token(),
                reading.image,
                meant=meant,
                read=reading.digit,
                confidence=reading.confidence,
                author=client_author(),
            )
            st.toast(_("Shared with the room."), icon=":material/groups:")
        except ValueError as error:
            st.toast(str(error), icon=":material/hourglass_top:")
    st.caption(
        _(
            "Shared drawings (the 28×28 picture, no name) are shown to everyone on the Room page, the one place "
            "visitors see each other's work. You can take yours back there."
        )
    )
    st.page_link("app_pages/room.py", label=_("See the room's wall"), icon=":material/groups:")
    return meant


def client_author() -> str:
    """An opaque token of this visitor's client address, the same for every session it opens: never shown.

    The address is the connection's (`st.context.ip_address`, which Streamlit's server takes from a local proxy's
    X-Forwarded-For); None from this machine itself, and then every local session is one author.
    """
    address = client_address() or "this machine"
    return hmac.new(PRESENTER_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:16]


@st.cache_resource(show_spinner=False)
def _key_guard() -> presenter_key.KeyGuard:
    return presenter_key.KeyGuard(PRESENTER_KEY)


def presenter_proven() -> bool:
    """Whether this visitor proved the presenter key in this session, or earlier in this browser (its cookie)."""
    if not st.session_state.get("presenter_proven"):
        cookie = st.context.cookies.get(presenter_key.COOKIE)
        st.session_state.presenter_proven = presenter_key.token_valid(cookie, PRESENTER_KEY)
    return st.session_state.presenter_proven


def presenter(given_key: str) -> tuple[bool, str | None]:
    """(whether this visitor is the presenter, why not if the key they typed was refused).

    Each key typed is checked once; a right one is remembered for the session and, as a signed token in a cookie,
    for this browser's next visits."""
    if presenter_proven():
        return True, None
    if not given_key:
        return False, None
    checked = st.session_state.get("presenter_checked")
    if checked is None or checked[0] != given_key:
        try:
            checked = (given_key, _key_guard().check(visitor_token(), given_key), None)
        except ValueError as error:  # this session must still wait after its wrong keys
            checked = (None, False, str(error))  # checked again next time
        st.session_state.presenter_checked = checked
    if checked[1]:
        st.session_state.presenter_proven = st.session_state.presenter_token_due = True
        return True, None
    return False, checked[2] or _("That is not the presenter key.")


def keep_presenter_token() -> None:
    """At the end of the page (an element earlier would shift the page's and close an open popover): the browser
    of a presenter who just proved the key keeps a signed token in a cookie, never the key."""
    if not st.session_state.pop("presenter_token_due", False):
        return
    secure = "; Secure" if (st.context.url or "").startswith("https") else ""
    cookie = (
        f"{presenter_key.COOKIE}={presenter_key.token(PRESENTER_KEY)}; path=/; max-age={presenter_key.TOKEN_SECONDS}"
    )
    st.html(f"<script>document.cookie = '{cookie}; SameSite=Strict{secure}';</script>", unsafe_allow_javascript=True)


def on_phone() -> bool:
    """Whether the visitor's browser says it is a phone (its User-Agent): the Draw page sizes its canvas to fit."""
    return "Mobile" in (st.context.headers.get("User-Agent") or "")


def presenter_reading(reading: Reading | None) -> None:
    """The presenter view's reading: a digit readable from the back of a hall, and large bars."""
    digit, sure = (reading.digit, reading.confidence) if reading else (None, 0.0)
    st.html(reading_line(digit, sure, size="13rem"))
    st.html(f'<div style="zoom:1.3">{probability_list(reading.probabilities if reading else np.zeros(10))}</div>')
