"""Widget values a scripted client can send that Streamlit itself does not check: numbers that are not finite, and a
choice that is none of the options offered."""

from __future__ import annotations

import functools
import logging
import math
import threading

import streamlit as st
from streamlit.elements.widgets import number_input, radio, selectbox
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.i18n import _

log = logging.getLogger("digitlab")
_refused: set[str] = set()  # sessions that sent a value no browser sends, since their last page run
_lock = threading.Lock()


def _not_finite(serde, ui_value) -> bool:
    return isinstance(ui_value, float) and not math.isfinite(ui_value)


def _not_offered(serde, ui_value) -> bool:
    return ui_value is not None and ui_value not in serde.formatted_option_to_option_index


# (module, its serde class, what a browser never sends it). An integer number box passes NaN to int() before its
# own finiteness check, an error raised while Streamlit reads the widgets, before (and outside) any page's boundary;
# a select box or radio returns an unknown choice as the raw string, where the page expects one of its options.
GUARDS = ((number_input, "NumberInputSerde", _not_finite), (selectbox, "SelectboxSerde", _not_offered),
          (radio, "RadioSerde", _not_offered))  # fmt: skip


def guard_widgets() -> bool:
    """Make every number box, select box and radio read a value no browser sends as its default, with a notice
    for the visitor. False, and a warning, if this Streamlit no longer has one of their deserializers."""
    guarded = True
    for module, name, hostile in GUARDS:
        serde = getattr(module, name, None)
        deserialize = getattr(serde, "deserialize", None)
        if deserialize is None:
            log.warning("streamlit has no %s.deserialize any more; its hostile values are not guarded", name)
            guarded = False
        elif not getattr(deserialize, "digitlab_guarded", False):
            serde.deserialize = _guarded(deserialize, hostile)
    return guarded


def _guarded(deserialize, hostile):
    @functools.wraps(deserialize)
    def default_if_hostile(self, ui_value):
        if hostile(self, ui_value):
            context = get_script_run_ctx()
            if context is not None:
                with _lock:
                    _refused.add(context.session_id)
            ui_value = None  # the widget's default
        return deserialize(self, ui_value)

    default_if_hostile.digitlab_guarded = True
    return default_if_hostile


def input_notice() -> None:
    """Say once, in this visitor's next page run, that a value they sent was none a browser sends."""
    context = get_script_run_ctx()
    if context is None:
        return
    with _lock:
        refused = context.session_id in _refused
        _refused.discard(context.session_id)
    if refused:
        st.toast(
            _(
                "A control was sent a value it does not offer (a number that is not finite, or a choice that is not "
                "among its options); it is back at its default."
            ),
            icon="⚠️",
        )


def chosen_part(parts: dict[str, str], default: str, where=st) -> str:
    """Which of a page's parts to show: a row of buttons (`parts`: its id -> its name, marked for the catalog), on
    the one the link's ?part= names if it is one of them (a talk's chapter opens on its part), else on `default`."""
    asked = st.query_params.get("part")
    return where.segmented_control(
        _("Show"),
        list(parts),
        format_func=lambda part: _(parts[part]),
        default=asked if asked in parts else default,
        required=True,
    )
