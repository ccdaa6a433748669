"""The visitor's language: `?lang=zh|en` if the link says, else their browser's, else English; a picker in the sidebar.

Each visitor has their own, kept in their session, so a presenter may speak Chinese while phones read English; the
QR code and the links the app makes carry none. core/ learns it through `core.i18n`'s resolver, set here.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import i18n
from core.i18n import LANGUAGES

QUERY = "lang"
_KEY = "digitlab_language"
_PINNED = "digitlab_language_pinned"  # the visitor chose (by link or picker): the address keeps it across pages
_PICKER = "digitlab_language_picker"


def _session_language() -> str | None:
    """The language of the visitor whose run this thread is (None in a run's thread or a child process)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(_KEY)


i18n.set_resolver(_session_language)


def choose_language() -> str:
    """The visitor's language for this run, decided before anything is shown (app.py calls it first)."""
    asked = st.query_params.get(QUERY)
    if isinstance(asked, str) and asked.strip().lower() in LANGUAGES:
        st.session_state[_KEY] = asked.strip().lower()
        st.session_state[_PINNED] = True
    elif _KEY not in st.session_state:
        st.session_state[_KEY] = i18n.from_locale(_browser_locale()) or i18n.DEFAULT
    language = st.session_state[_KEY]
    if st.session_state.get(_PINNED) and asked != language:
        st.query_params[QUERY] = language  # a page link drops the address's query: the choice survives a reload
    return language


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:  # outside a browser's session (a test's script run)
        return None


def _picked() -> None:
    picked = st.session_state.get(_PICKER)
    if picked in LANGUAGES:
        st.session_state[_KEY] = picked
        st.session_state[_PINNED] = True
        st.query_params[QUERY] = picked


def language_picker() -> None:
    """The sidebar's choice of language, named in both so either reader finds it."""
    st.session_state[_PICKER] = st.session_state[_KEY]
    st.sidebar.segmented_control(
        "Language · 语言",
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key=_PICKER,
        on_change=_picked,
    )
