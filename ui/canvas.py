"""The drawing canvas every page uses: white pen on black, its value checked before anything is decoded."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.i18n import _
from core.pictures.preprocess import read_canvas

CANVAS_SIZE = 280  # CSS pixels; ten canvas pixels per MNIST pixel
PEN_WIDTH = 24  # on the 280 px canvas, scaled on others: a 200 px digit shrinks to 20 px, strokes to ~2.4 px
MAX_STROKES = 400  # objects the canvas's drawing may hold: a digit takes a handful, a busy symbol a few dozen
MAX_DRAWING_BYTES = 1_000_000  # of the drawing's JSON, which the page keeps and sends back to restore it


@dataclass(frozen=True)
class Drawn:
    image: np.ndarray | None  # (28, 28) float32 in [0, 1]: the network's input; None if nothing is drawn
    strokes: dict | None  # the canvas's own drawing (its JSON), small enough to keep and send back; None if not
    refused: str | None = None  # why the canvas's value was not read, in plain words
    sent: bool = False  # whether the browser has sent a drawing since the canvas appeared


def drawing_canvas(key: str, *, size: int = CANVAS_SIZE, restore: dict | None = None) -> Drawn:
    """A canvas of `size` CSS pixels; what is drawn on it, refused unless it is what this canvas can send."""
    # Imported here: the component can only be declared inside a running app, not where a test imports `ui`.
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=round(PEN_WIDTH * size / CANVAS_SIZE),
        stroke_color="#ffffff",
        background_color="#000000",
        width=size,
        height=size,
        initial_drawing=restore,
        return_image_data=True,
        key=key,
    )
    strokes = result.json_data
    objects = strokes.get("objects") if isinstance(strokes, dict) else None
    if strokes is not None and (
        not isinstance(objects, list) or len(objects) > MAX_STROKES or len(json.dumps(strokes)) > MAX_DRAWING_BYTES
    ):
        return Drawn(None, None, _("That drawing has far more strokes than a digit needs: clear it and draw again."))
    try:
        data = result.image_bytes  # the PNG, still encoded; None until the first stroke
    except Exception:  # not a base64 data URL
        return Drawn(None, None, _("The drawing arrived damaged: clear the canvas and draw again."))
    if data is None:
        return Drawn(None, strokes)
    try:
        return Drawn(read_canvas(data, size), strokes, sent=True)
    except ValueError as error:  # read_canvas's plain reasons
        return Drawn(None, None, str(error))


def show_refusal(drawn: Drawn) -> None:
    """Say, once, why a canvas's value was not read."""
    if drawn.refused:
        st.warning(drawn.refused, icon=":material/block:")


def _clear() -> None:
    st.session_state.canvas_clears = st.session_state.get("canvas_clears", 0) + 1
    st.session_state.drawing = st.session_state.canvas_json = None


def draw_here(size: int, *, titled: bool = True) -> None:
    """The Draw page's canvas: what is drawn becomes this visitor's drawing (its 28x28 input) as the pen lifts."""
    if titled:
        st.markdown(_("**Your drawing**"))  # also keeps the canvas toolbar clear of the text above
    # A fresh mount (first visit, or back from another page) restores the last drawing once;
    # later runs pass the same value so the canvas keeps its own undo history.
    key = f"canvas_{st.session_state.get('canvas_clears', 0)}"  # a new key is a blank canvas
    if key not in st.session_state:
        st.session_state.canvas_restore = st.session_state.get("canvas_json")
    drawn = drawing_canvas(key, size=size, restore=st.session_state.canvas_restore)
    show_refusal(drawn)
    if st.session_state.pop("moved", False):  # the browser kept the drawing it had on the server it left,
        st.session_state.stale_canvas = drawn.strokes  # but this canvas starts empty: it is not read
    if drawn.refused:
        st.session_state.drawing = st.session_state.canvas_json = None
    elif drawn.sent and drawn.strokes != st.session_state.get("stale_canvas"):
        st.session_state.drawing = drawn.image  # the 28x28 input only, not the canvas's 280x280 RGBA
        st.session_state.canvas_json = drawn.strokes
    if "Mobile" in (st.context.headers.get("User-Agent") or ""):  # a touch screen has no hover for the toolbar
        st.button(_("Clear"), icon=":material/delete:", on_click=_clear, key="clear_canvas")
    else:
        st.caption(_("Undo, redo and clear are in the canvas toolbar."))
