"""Draw page: draw a digit and watch the network read it live."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from core.explain import integrated_gradients
from core.plots import attribution_picture, pixel_grid, probability_bars
from core.reading import read_picture

CANVAS_SIZE = 280  # CSS pixels; ten canvas pixels per MNIST pixel
PEN_WIDTH = 24  # a 200 px tall digit shrinks to 20 px (0.1x): strokes of ~2.4 px, like MNIST's

st.title("Draw a digit")
st.caption("Draw one digit, 0 to 9, with a mouse, pen or finger. The network reads it as soon as you lift the pen.")

left, right = st.columns([1, 1.3], gap="large")
with left:
    st.markdown("**Your drawing**")  # also keeps the canvas toolbar clear of the text above
    # A fresh mount (first visit, or back from another page) restores the last drawing once;
    # later runs pass the same value so the canvas keeps its own undo history.
    if "canvas" not in st.session_state:
        st.session_state.canvas_restore = st.session_state.get("canvas_json")
    canvas = st_canvas(
        stroke_width=PEN_WIDTH,
        stroke_color="#ffffff",
        background_color="#000000",
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        initial_drawing=st.session_state.canvas_restore,
        return_image_data=True,
        key="canvas",
    )
    if canvas.image_data is not None:  # None until the first stroke after mounting
        st.session_state.drawing = canvas.image_data
        st.session_state.canvas_json = canvas.json_data
    st.caption("Undo, redo and clear are in the canvas toolbar.")

reading = None
if st.session_state.get("drawing") is not None:
    reading = read_picture(ui.active_model(), st.session_state.drawing)

with right:
    if reading is None:
        st.info("Draw a digit on the black square to see what the network reads.", icon="✏️")
    else:
        verdict, picture = st.columns([1, 1])
        with verdict:
            st.metric(
                "Prediction", reading.digit, delta=f"{reading.confidence:.0%} sure",
                delta_color="off", delta_arrow="off", border=True,
            )  # fmt: skip
            if reading.unsure:
                st.warning(f"Not sure: this could also be a {reading.runner_up}. Try a larger, clearer digit.")
        with picture:
            st.caption(
                "**What the network sees**: your drawing cropped, scaled to 20 px and centred in 28×28, like MNIST."
            )
            st.plotly_chart(pixel_grid(reading.image, height=170), config={"displayModeBar": False})
        st.plotly_chart(probability_bars(reading.probabilities, height=220), config={"displayModeBar": False})
        if st.toggle("Why?", help="Which pixels pushed the network towards its answer (integrated gradients)"):
            why = integrated_gradients(ui.active_model(), reading.image, reading.digit)
            st.image(attribution_picture(why, reading.image, signed=True), width=170)
            st.caption(
                f"Red pixels pushed towards **{reading.digit}**, blue pixels against it. More on the Explain page."
            )
