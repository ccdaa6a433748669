"""Streamlit glue shared by the pages: cached loaders, the visitor's models and pictures, uploads, safe text.

Pages call `ui.<name>`; each name lives in the module of its concept.
"""

from ui.canvas import CANVAS_SIZE, drawing_canvas, show_refusal
from ui.models import (
    active_label,
    active_model,
    bounded,
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
from ui.pictures import (
    INPUTS,
    SOURCES,
    as_input,
    choose_picture,
    explain,
    keep_attacked,
    photo_input,
    your_input,
    your_picture,
)
from ui.reading import read_calibrated
from ui.runs import follow, in_line
from ui.session import arrived, job_owner, keep_keras_session, moved_here, owner_present
from ui.stage import (
    PHONE_STYLE,
    join_code,
    on_phone,
    presenter,
    presenter_header,
    presenter_reading,
    presenting,
    public_url,
    room,
    share_with_room,
    visitor_token,
    wall_view,
)
from ui.text import as_text, error_boundary
from ui.trust import calibration, temperature, test_styles
from ui.uploads import model_upload

__all__ = [
    "CANVAS_SIZE", "INPUTS", "PHONE_STYLE", "SOURCES", "active_label", "active_model", "arrived", "as_input",
    "as_text", "bounded", "calibration", "choose_picture", "derived", "drawing_canvas", "error_boundary",
    "explain", "follow", "has_gradients", "in_line", "job_owner", "join_code", "keep_attacked",
    "keep_keras_session", "keras_labels", "mnist", "model", "model_labels", "model_picker", "model_upload",
    "moved_here", "on_phone", "owner_present", "per_model", "photo_input", "presenter", "presenter_header",
    "presenter_reading", "presenting", "public_url", "read_calibrated", "registry", "rename_model",
    "require_gradients", "room", "share_with_room", "shipped_model", "shipped_model_card", "show_refusal",
    "temperature", "test_probabilities", "test_styles", "visitor_token", "wall_view", "your_input",
    "your_picture",
]  # fmt: skip
