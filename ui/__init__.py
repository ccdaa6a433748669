"""Streamlit glue shared by the pages: cached loaders, the visitor's models and pictures, uploads, safe text.

Pages call `ui.<name>`; each name lives in the module of its concept.
"""

from ui.models import (
    active_label,
    active_model,
    derived,
    has_gradients,
    keras_labels,
    mnist,
    model,
    model_labels,
    model_picker,
    per_model,
    registry,
    rename_model,
    require_gradients,
    shipped_model,
    shipped_model_card,
    test_probabilities,
)
from ui.pictures import INPUTS, SOURCES, choose_picture, your_picture
from ui.session import keep_keras_session, owner_present
from ui.text import as_text, error_boundary
from ui.trust import calibration, read_calibrated, temperature, test_styles
from ui.uploads import model_upload

__all__ = [
    "INPUTS", "SOURCES", "active_label", "active_model", "as_text", "calibration", "choose_picture", "derived",
    "error_boundary", "has_gradients", "keep_keras_session", "keras_labels", "mnist", "model", "model_labels",
    "model_picker", "model_upload", "owner_present", "per_model", "read_calibrated", "registry", "rename_model",
    "require_gradients", "shipped_model", "shipped_model_card", "temperature", "test_probabilities", "test_styles",
    "your_picture",
]  # fmt: skip
