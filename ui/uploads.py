"""Sidebar: a visitor's own .keras model, checked and added to their models."""

from __future__ import annotations

import streamlit as st

from core.i18n import _
from core.metrics import Evaluation
from core.registry import MAX_MODELS
from core.uploads import MAX_MODEL_MB, load_uploaded_model
from ui.models import (
    mnist,
    registry,
)
from ui.session import forget_upload
from ui.text import as_text


def _add_uploaded_model(upload) -> tuple[str, str]:
    """Check an uploaded .keras file; a good one joins this visitor's models and becomes the active one."""
    if not str(upload.name).lower().endswith(".keras"):
        return "error", _("Digit Lab takes Keras models saved with model.save('name.keras'); that file is not one.")
    try:
        with st.spinner(_("Checking your model: its layers, its weights, then the 10,000 test digits…")):
            uploaded = load_uploaded_model(upload.getvalue(), mnist().x_test)
    except ValueError as error:
        return "error", str(error)
    evaluation = Evaluation(mnist().y_test, uploaded.test_probabilities)
    evicted = registry().add_upload(upload.name, uploaded.model, evaluation.probabilities, evaluation.accuracy)
    st.session_state.next_model_choice = registry().runs[-1].name
    notice = _("Added {name}; every page now uses it.").format(name=as_text(registry().runs[-1].name))
    if evicted is not None:
        notice += " " + _("You may keep {count} models, so {name} was removed.").format(
            count=MAX_MODELS, name=as_text(evicted.name)
        )
    return "success", notice


def model_upload() -> None:
    """Sidebar: bring a .keras model trained elsewhere; it stays in this visitor's session only."""
    with st.sidebar.expander(_("Bring your own model")):
        round_ = st.session_state.setdefault("model_file_round", 0)
        upload = st.file_uploader(
            _("A .keras file that reads 28×28 images into 10 probabilities"),
            type=None,  # any name reaches _add_uploaded_model, which refuses in a sentence (Streamlit would raise)
            max_upload_size=int(MAX_MODEL_MB),
            key=f"model_file_{round_}",  # a new widget after each file: the last one's bytes are not kept
            help=_(
                "Checked in a separate process with limits, and loaded with Keras' safe mode: a file with Python "
                "code in it (a Lambda layer) is refused."
            ),
        )
        if upload is not None:  # checked once: then the uploader starts afresh and the file's bytes are let go
            st.session_state.model_notice = _add_uploaded_model(upload)
            st.session_state.model_file_round = round_ + 1
            forget_upload(upload.file_id)
            st.rerun()  # the sidebar's picker above lists the new model; the uploader is empty again
        kind, message = st.session_state.pop("model_notice", (None, None))
        if kind == "error":
            st.error(message)
        elif kind == "success":
            st.success(message)
