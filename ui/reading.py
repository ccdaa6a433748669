"""The live reading: the model in the sidebar reads a picture, its probabilities set by its temperature."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.calibration import with_temperature
from core.explain import integrated_gradients
from core.figures.bars import probability_list
from core.figures.pictures import attribution_picture, pixel_picture
from core.figures.style import PICTURE_WIDTH
from core.i18n import _
from core.pictures.data import IMAGE_SIZE
from core.reading import Reading, read_image
from ui.data import correction_button
from ui.models import active_label, active_model, has_gradients
from ui.stage import share_with_room
from ui.trust import temperature

NO_READING = "–"  # the Prediction's value before anything is drawn


def read_calibrated(image: np.ndarray) -> Reading:
    """The active model's reading of its (28, 28) input, its probabilities softened or sharpened by its temperature."""
    reading = read_image(active_model(), image)
    scale = temperature(active_label())
    if scale is None:
        return reading
    return Reading(reading.image, with_temperature(reading.probabilities[None], scale)[0])


def reading_panel(reading: Reading | None, *, drawing: bool) -> None:
    """The Draw page's reading: the digit and how sure, the 28x28 picture the network saw, every class's probability,
    why (on request), and the corrections and sharing it leads to.

    Its layout is always there, empty until the first stroke: nothing jumps when the reading arrives, and the browser
    has loaded what it needs to draw it before anyone has drawn."""
    if reading is None and drawing:
        st.info(_("Draw a digit on the black square to see what the network reads."), icon="✏️")
    elif reading is None:
        st.info(
            _("Upload a picture of one dark digit on light paper, or a light one on dark."),
            icon=":material/photo_camera:",
        )
    image = reading.image if reading else np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    verdict, seen = st.columns([1, 1])
    with verdict:
        st.metric(
            _("Prediction"),
            reading.digit if reading else NO_READING,
            delta=_("{confidence:.0%} sure").format(confidence=reading.confidence) if reading else _("nothing yet"),
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
        if reading and reading.unsure:
            st.warning(
                _("Not sure: this could also be a {runner_up}. Try a larger, clearer digit.").format(
                    runner_up=reading.runner_up
                )
            )
    with seen:
        st.caption(
            _("**What the network sees**: your digit cropped, scaled to 20 px and centred in 28×28, like MNIST.")
        )
        st.image(pixel_picture(image), width=PICTURE_WIDTH, output_format="PNG")
    st.html(probability_list(reading.probabilities if reading else np.zeros(10)))
    why_help = _("Which pixels pushed the network towards its answer (integrated gradients)")
    if st.toggle(_("Why?"), help=why_help, disabled=reading is None or not has_gradients()) and reading:
        why = integrated_gradients(active_model(), reading.image, reading.digit)
        st.image(attribution_picture(why, reading.image, signed=True), width=PICTURE_WIDTH, output_format="PNG")
        st.caption(
            _("Red pixels pushed towards **{digit}**, blue pixels against it. More on the Explain page.").format(
                digit=reading.digit
            )
        )
    if reading:
        correction_button(reading, share_with_room(reading))
