"""The picture a page works on: the visitor's drawing or photo, a test digit, or an attacked picture."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from core.i18n import N_, _
from core.pictures.data import IMAGE_SIZE
from core.pictures.preprocess import MAX_IMAGE_MB, load_image, to_mnist
from ui.models import mnist

INPUTS = (N_("Draw"), N_("Upload a photo"))  # the Draw page's two ways to show the network a digit


def your_picture() -> np.ndarray | None:
    """What this visitor last showed the network on the Draw page: their drawing or their photo."""
    if st.session_state.get("input") == INPUTS[1]:
        return st.session_state.get("photo")
    return st.session_state.get("drawing")


def as_input(picture: np.ndarray | None) -> np.ndarray | None:
    """A kept picture as the network's (28, 28) float32 input; None if it shows no digit.

    The Draw page keeps exactly that input (28x28 float32), never the full-size canvas or photo; any other
    picture (a test's, say) is preprocessed here.
    """
    if picture is None:
        return None
    picture = np.asarray(picture)
    if picture.shape == (IMAGE_SIZE, IMAGE_SIZE) and picture.dtype == np.float32:
        return picture
    return to_mnist(picture)


def your_input() -> np.ndarray | None:
    """The network's input from what this visitor last showed it on the Draw page; None if nothing."""
    return as_input(your_picture())


SOURCES = (N_("Your drawing"), N_("A test digit"), N_("The attacked picture"))
ATTACKED = "attacked_picture"  # session key of the picture the Attack page last made


def keep_attacked(picture: np.ndarray) -> None:
    """The Attack page's latest picture, for the Explain page to offer."""
    st.session_state[ATTACKED] = picture


def open_in_explain(source: str, *, index: int | None = None) -> None:
    """Open the Explain page on a picture: one of SOURCES, a test digit's `index` for "A test digit"."""
    st.session_state.explain_source = source
    if index is not None:
        st.session_state.explain_index = index
    st.switch_page("app_pages/explain.py")


def choose_picture(key: str, *, attacked: bool = False) -> tuple[np.ndarray, int | None]:
    """The picture a page works on, chosen by the visitor: (28, 28) in [0, 1], and its digit if known.

    Their drawing or photo from the Draw page, a test digit, or (with `attacked`) the picture they
    last attacked on the Attack page. Stops the page with a hint if they chose a drawing and have none.
    """
    drawn = your_input()
    sources = list(SOURCES[:2]) + ([SOURCES[2]] if attacked and ATTACKED in st.session_state else [])
    if st.session_state.get(f"{key}_source") not in sources:  # first visit, or the attacked picture is gone
        st.session_state[f"{key}_source"] = sources[0] if drawn is not None else sources[1]
    source = st.segmented_control(_("Picture"), sources, format_func=_, key=f"{key}_source", required=True)
    if source == SOURCES[2]:
        return st.session_state[ATTACKED], None
    if source == SOURCES[0]:
        if drawn is None:
            st.info(_("Draw a digit on the Draw page first, or pick a test digit."), icon="✏️")
            st.stop()
        return drawn, None
    data = mnist()
    number, shuffle = st.columns([3, 2], vertical_alignment="bottom")
    if shuffle.button(_("Random test digit"), icon=":material/casino:", key=f"{key}_random"):
        st.session_state[f"{key}_index"] = int(np.random.default_rng().integers(len(data.y_test)))
    index = number.number_input(_("Test digit index"), 0, len(data.y_test) - 1, key=f"{key}_index")
    st.caption(_("Test digit #{index} is a **{y_test}**.").format(index=index, y_test=data.y_test[index]))
    return data.x_test[index] / np.float32(255), int(data.y_test[index])


PREVIEW_SIDE = 560  # pixels: the photo as the page shows it (twice its width, for sharp screens)


def _take_photo() -> None:
    """Decode a newly uploaded (or removed) photo once: keep its 28x28 input and a preview, not the full photo."""
    upload = st.session_state.photo_file
    st.session_state.photo = st.session_state.photo_preview = st.session_state.photo_error = None
    if upload is not None:
        try:
            pixels = load_image(upload.getvalue())
        except ValueError as error:
            st.session_state.photo_error = str(error)
            return
        st.session_state.photo = to_mnist(pixels)
        preview = Image.fromarray(pixels)
        preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        st.session_state.photo_preview = np.asarray(preview)


def photo_input(*, width: int) -> None:
    """The Draw page's photo upload: the file, a plain reason if it is refused, and the photo as uploaded."""
    st.file_uploader(
        _("A photo, scan or screenshot of one digit (PNG, JPEG, WebP, BMP or GIF)"),
        type=None,  # load_image judges the bytes and refuses in a sentence; Streamlit would raise on a name
        max_upload_size=int(MAX_IMAGE_MB),
        key="photo_file",
        on_change=_take_photo,
    )
    if st.session_state.get("photo_error"):
        st.error(st.session_state.photo_error, icon=":material/broken_image:")
    if st.session_state.get("photo_preview") is not None:
        st.image(st.session_state.photo_preview, width=width)
