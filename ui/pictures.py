"""The picture a page works on: the visitor's drawing or photo, a test digit, or an attacked picture."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.preprocess import MAX_IMAGE_MB, load_image, to_mnist
from ui.models import (
    mnist,
)

INPUTS = ("Draw", "Upload a photo")  # the Draw page's two ways to show the network a digit


def your_picture() -> np.ndarray | None:
    """What this visitor last showed the network on the Draw page: their drawing or their photo."""
    if st.session_state.get("input") == INPUTS[1]:
        return st.session_state.get("photo")
    return st.session_state.get("drawing")


SOURCES = ("Your drawing", "A test digit", "The attacked picture")


def choose_picture(key: str, *, attacked: bool = False) -> tuple[np.ndarray, int | None]:
    """The picture a page works on, chosen by the visitor: (28, 28) in [0, 1], and its digit if known.

    Their drawing or photo from the Draw page, a test digit, or (with `attacked`) the picture they
    last attacked on the Attack page. Stops the page with a hint if they chose a drawing and have none.
    """
    picture = your_picture()
    drawn = to_mnist(picture) if picture is not None else None
    sources = list(SOURCES[:2]) + ([SOURCES[2]] if attacked and "attacked_picture" in st.session_state else [])
    if st.session_state.get(f"{key}_source") not in sources:  # first visit, or the attacked picture is gone
        st.session_state[f"{key}_source"] = sources[0] if drawn is not None else sources[1]
    source = st.segmented_control("Picture", sources, key=f"{key}_source", required=True)
    if source == SOURCES[2]:
        return st.session_state.attacked_picture, None
    if source == SOURCES[0]:
        if drawn is None:
            st.info("Draw a digit on the Draw page first, or pick a test digit.", icon="✏️")
            st.stop()
        return drawn, None
    data = mnist()
    number, shuffle = st.columns([3, 2], vertical_alignment="bottom")
    if shuffle.button("Random test digit", icon=":material/casino:", key=f"{key}_random"):
        st.session_state[f"{key}_index"] = int(np.random.default_rng().integers(len(data.y_test)))
    index = number.number_input("Test digit index", 0, len(data.y_test) - 1, key=f"{key}_index")
    st.caption(f"Test digit #{index} is a **{data.y_test[index]}**.")
    return data.x_test[index] / np.float32(255), int(data.y_test[index])


def _take_photo() -> None:
    """Decode a newly uploaded (or removed) photo once; keep it across pages like a drawing."""
    upload = st.session_state.photo_file
    st.session_state.photo, st.session_state.photo_error = None, None
    if upload is not None:
        try:
            st.session_state.photo = load_image(upload.getvalue())
        except ValueError as error:
            st.session_state.photo_error = str(error)


def photo_input(*, width: int) -> None:
    """The Draw page's photo upload: the file, a plain reason if it is refused, and the photo as uploaded."""
    st.file_uploader(
        "A photo, scan or screenshot of one digit", type=["png", "jpg", "jpeg", "webp", "bmp", "gif"],
        max_upload_size=int(MAX_IMAGE_MB), key="photo_file", on_change=_take_photo,
    )  # fmt: skip
    if st.session_state.get("photo_error"):
        st.error(st.session_state.photo_error, icon=":material/broken_image:")
    if st.session_state.get("photo") is not None:
        st.image(st.session_state.photo, width=width)
