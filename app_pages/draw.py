"""Draw page: draw a digit and watch the network read it live."""

import numpy as np
import streamlit as st

import ui
from core.explain import integrated_gradients
from core.figures.bars import probability_list, reading_line
from core.figures.pictures import attribution_picture, pixel_picture
from core.figures.style import PICTURE_WIDTH
from core.pictures.data import IMAGE_SIZE

TALK_CANVAS_SIZES = {1080: 560, 720: 400}  # the presenter view's, by the screen the presenter named
PHONE_CANVAS_SIZE = 320  # as wide as a 360 px phone allows beside the page's margins
NO_READING = "–"  # the Prediction's value before anything is drawn


if ui.presenting():  # a projector: under the talk's bar, the canvas and its reading fill the screen
    mode = ui.INPUTS[0]
else:
    st.title("Draw a digit")
    st.caption(
        "Draw one digit, 0 to 9, with a mouse, pen or finger, or upload a photo of one. "
        "The network reads it as soon as you lift the pen."
    )
    mode = st.segmented_control(
        "Show the network", ui.INPUTS, default=ui.INPUTS[0], required=True, key="input", persist_state="session"
    )


def _clear() -> None:
    st.session_state.canvas_clears = st.session_state.get("canvas_clears", 0) + 1
    st.session_state.drawing = st.session_state.canvas_json = None


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
            if not talk:
                st.markdown("**Your drawing**")  # also keeps the canvas toolbar clear of the text above
            # A fresh mount (first visit, or back from another page) restores the last drawing once;
            # later runs pass the same value so the canvas keeps its own undo history.
            phone = ui.on_phone()
            key = f"canvas_{st.session_state.get('canvas_clears', 0)}"  # a new key is a blank canvas
            if key not in st.session_state:
                st.session_state.canvas_restore = st.session_state.get("canvas_json")
            drawn = ui.drawing_canvas(key, size=size, restore=st.session_state.canvas_restore)
            ui.show_refusal(drawn)
            if st.session_state.pop("moved", False):  # the browser kept the drawing it had on the server it left,
                st.session_state.stale_canvas = drawn.strokes  # but this canvas starts empty: it is not read
            if drawn.refused:
                st.session_state.drawing = st.session_state.canvas_json = None
            elif drawn.sent and drawn.strokes != st.session_state.get("stale_canvas"):
                st.session_state.drawing = drawn.image  # the 28x28 input only, not the canvas's 280x280 RGBA
                st.session_state.canvas_json = drawn.strokes
            if phone:  # the canvas's toolbar shows on hover, which a touch screen has not
                st.button("Clear", icon=":material/delete:", on_click=_clear, key="clear_canvas")
            else:
                st.caption("Undo, redo and clear are in the canvas toolbar.")
        else:
            ui.photo_input(width=ui.CANVAS_SIZE)

    image = ui.your_input()
    reading = ui.read_calibrated(image) if image is not None else None
    digit, sure = (reading.digit, reading.confidence) if reading else (None, 0.0)
    phone_reading.html(f'<div class="digitlab-phone-reading">{reading_line(digit, sure, size="2.6rem")}</div>')
    if talk:
        with right:
            ui.presenter_reading(reading)
        return

    with right:
        # The reading's layout is always there, empty until the first stroke: nothing jumps when it
        # arrives, and the browser has loaded what it needs to draw it before anyone has drawn.
        if reading is None and mode == ui.INPUTS[0]:
            st.info("Draw a digit on the black square to see what the network reads.", icon="✏️")
        elif reading is None:
            st.info(
                "Upload a picture of one dark digit on light paper, or a light one on dark.",
                icon=":material/photo_camera:",
            )
        image = reading.image if reading else np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
        verdict, seen = st.columns([1, 1])
        with verdict:
            st.metric(
                "Prediction",
                reading.digit if reading else NO_READING,
                delta=f"{reading.confidence:.0%} sure" if reading else "nothing yet",
                delta_color="off",
                delta_arrow="off",
                border=True,
            )
            if reading and reading.unsure:
                st.warning(f"Not sure: this could also be a {reading.runner_up}. Try a larger, clearer digit.")
        with seen:
            st.caption(
                "**What the network sees**: your digit cropped, scaled to 20 px and centred in 28×28, like MNIST."
            )
            st.image(pixel_picture(image), width=PICTURE_WIDTH, output_format="PNG")
        st.html(probability_list(reading.probabilities if reading else np.zeros(10)))
        why_help = "Which pixels pushed the network towards its answer (integrated gradients)"
        if st.toggle("Why?", help=why_help, disabled=reading is None or not ui.has_gradients()) and reading:
            why = integrated_gradients(ui.active_model(), reading.image, reading.digit)
            st.image(attribution_picture(why, reading.image, signed=True), width=PICTURE_WIDTH, output_format="PNG")
            st.caption(
                f"Red pixels pushed towards **{reading.digit}**, blue pixels against it. More on the Explain page."
            )
        if reading:
            ui.correction_button(reading, ui.share_with_room(reading))


drawing_and_reading(mode)
