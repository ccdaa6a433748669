"""Widget values a scripted client can send that Streamlit itself does not check: numbers that are not finite."""

from __future__ import annotations

import functools
import logging
import math
import threading

import streamlit as st
from streamlit.elements.widgets import number_input
from streamlit.runtime.scriptrunner import get_script_run_ctx

log = logging.getLogger("digitlab")
_refused: set[str] = set()  # sessions that sent a non-finite number since their last page run
_lock = threading.Lock()


def guard_number_inputs() -> bool:
    """Make every number box read a NaN or an infinity as its default, with a notice for the visitor.

    A browser never sends one, but a scripted client can; an integer box passes it to `int()` before its own
    finiteness check, an error raised while Streamlit reads the widgets, before (and outside) any page's boundary.
    False, and a warning, if this Streamlit no longer has the deserializer.
    """
    serde = getattr(number_input, "NumberInputSerde", None)
    deserialize = getattr(serde, "deserialize", None)
    if deserialize is None:
        log.warning("streamlit has no NumberInputSerde.deserialize any more; non-finite numbers are not guarded")
        return False
    if getattr(deserialize, "digitlab_guarded", False):
        return True

    @functools.wraps(deserialize)
    def finite_or_default(self, ui_value):
        if isinstance(ui_value, float) and not math.isfinite(ui_value):
            context = get_script_run_ctx()
            if context is not None:
                with _lock:
                    _refused.add(context.session_id)
            ui_value = None  # the box's default
        return deserialize(self, ui_value)

    finite_or_default.digitlab_guarded = True
    serde.deserialize = finite_or_default
    return True


def number_notice() -> None:
    """Say once, in this visitor's next page run, that a number they sent was not a number."""
    context = get_script_run_ctx()
    if context is None:
        return
    with _lock:
        refused = context.session_id in _refused
        _refused.discard(context.session_id)
    if refused:
        st.toast("A number box was sent a value that is not a finite number; it is back at its default.", icon="⚠️")
