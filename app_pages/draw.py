"""Draw page: draw a digit and watch the network read it live."""

import streamlit as st

import ui
from core.figures.bars import reading_line
from core.i18n import _

TALK_CANVAS_SIZES = {1080: 560, 720: 400}  # the presenter view's, by the screen the presenter named
PHONE_CANVAS_SIZE = 320  # as wide as a 360 px phone allows beside the page's margins


if ui.presenting():  # a projector: under the talk's bar, the canvas and its reading fill the screen
    mode = ui.INPUTS[0]
else:
    st.title(_("Draw a digit"))
    st.caption(
        _(
            "Draw one digit, 0 to 9, with a mouse, pen or finger, or upload a photo of one. "
            "The network reads it as soon as you lift the pen."
        )
    )
    mode = st.segmented_control(
        _("Show the network"),
        ui.INPUTS,
        format_func=_,
        default=ui.INPUTS[0],
        required=True,
        key="input",
        persist_state="session",
    )


@st.fragment
@ui.error_boundary("the Draw page")
def drawing_and_reading(mode: str) -> None:
    """The canvas (or photo) and the network's reading.

    A stroke reruns only this part, not the app around it: fewer messages to the browser, each a hand-over of the
    server's GIL to its event loop, and a shorter script run (bench/load.py measures the crowd it lets a server hold).
    """
    talk = ui.presenting()
    size = TALK_CANVAS_SIZES[ui.screen()] if talk else PHONE_CANVAS_SIZE if ui.on_phone() else ui.CANVAS_SIZE
    phone_reading = st.empty()  # narrow screens only (see app.py's style): the reading above the canvas
    left, right = st.columns([1, 1] if talk else [1, 1.3], gap="large")
    with left:
        if mode == ui.INPUTS[0]:
            ui.draw_here(size, titled=not talk)
        else:
            ui.photo_input(width=ui.CANVAS_SIZE)
    image = ui.your_input()
    reading = ui.read_calibrated(image) if image is not None else None
    digit, sure = (reading.digit, reading.confidence) if reading else (None, 0.0)
    phone_reading.html(f'<div class="digitlab-phone-reading">{reading_line(digit, sure, size="2.6rem")}</div>')
    with right:
        if talk:
            ui.presenter_reading(reading)
        else:
            ui.reading_panel(reading, drawing=mode == ui.INPUTS[0])


drawing_and_reading(mode)
