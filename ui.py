"""Streamlit glue shared by the pages: cached loaders and the visitor's choice of model."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator

import keras
import numpy as np
import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx, script_runner

from core.calibration import Calibration, calibrate, fit_temperature, with_temperature
from core.data import IMAGE_SIZE, DataUnavailableError, Mnist, load_mnist
from core.metrics import Evaluation
from core.model_upload import MAX_MODEL_MB, load_uploaded_model
from core.models import SHIPPED_MODELS, load_default_model, load_model_card, predict_proba, shipped_paths
from core.preprocess import to_mnist
from core.reading import Reading, read_picture
from core.registry import MAX_MODELS, Registry
from core.slices import style_attributes
from core.training import split

log = logging.getLogger("digitlab")


def _clean_problem_modules_but_keras() -> None:
    """Streamlit's cleanup after a script run, less `keras.backend.clear_session()`.

    The only other thing it cleans is matplotlib.pyplot's figures, and Digit Lab draws none.
    """


def keep_keras_session() -> bool:
    """Stop Streamlit clearing the Keras session after every script run of every visitor.

    Streamlit calls `keras.backend.clear_session()` when any run ends: a full `gc.collect()` of a
    TensorFlow-sized heap while holding the GIL, plus TensorFlow's kernel cache thrown away, and
    Keras' global state reset under a training running in another visitor's thread. With ten
    visitors drawing that was a third of the server's time (py-spy, bench/load.py). Digit Lab
    keeps no per-run Keras state to clear: models live in caches and session state. False, and a
    warning, if this Streamlit no longer has the hook (then its cleanup runs as before).
    """
    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        log.warning("streamlit has no _clean_problem_modules any more; Keras may be cleared after every run")
        return False
    script_runner._clean_problem_modules = _clean_problem_modules_but_keras
    return True


_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark, which Markdown lets one escape


def as_text(text: object) -> str:
    """Visitor-controlled text (a link's value, a file or run name) made safe to put inside Markdown.

    Every punctuation mark is escaped, so nothing becomes a link, an image, emphasis, HTML or LaTeX,
    and a zero-width space follows each colon, so neither an emoji shortcode nor one of Streamlit's
    `:color[...]` or `:material/...:` directives forms. Line breaks become spaces.
    """
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", flat).replace(":", ":\u200b")


@contextlib.contextmanager
def error_boundary(where: str) -> Iterator[None]:
    """Turn any error in a page (or a fragment, as a decorator) into a friendly message; log the details."""
    try:
        yield
    except DataUnavailableError as error:  # a broken install: say how to fix it
        st.error(str(error), icon=":material/database_off:")
    except Exception:
        log.exception("error in %s", where)
        st.error(
            "Sorry, something went wrong here. It has been logged. Try again, or pick another page or model.",
            icon=":material/sentiment_dissatisfied:",
        )


@st.cache_resource(show_spinner="Loading the model…")
def shipped_model(label: str) -> keras.Model:
    """A model from assets/: one read-only copy shared by every visitor."""
    model = load_default_model(shipped_paths(label)[0])
    # Trace its prediction graph now, under the loading spinner, not on the first drawing (~1 s).
    predict_proba(model, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.float32))
    return model


@st.cache_resource(show_spinner=False)
def shipped_model_card(label: str) -> dict:
    return load_model_card(shipped_paths(label)[1])


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> Mnist:
    """The bundled data set: one read-only copy for every visitor."""
    return load_mnist()


@st.cache_resource(show_spinner="Reading the 10,000 test digits…")
def _shipped_test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of a shipped model on MNIST's test set, computed once per server."""
    return predict_proba(shipped_model(label), mnist().x_test / np.float32(255))


def registry() -> Registry:
    """This visitor's own trained models (session state: nobody else sees them)."""
    if "registry" not in st.session_state:
        st.session_state.registry = Registry()
    return st.session_state.registry


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


@st.cache_resource(show_spinner=False)
def _shipped_derived(label: str) -> dict:
    """Results computed from a shipped model (its robustness curves, ...): one dict shared by every visitor."""
    return {}


def derived(label: str) -> dict:
    """A place to keep what was computed from a model, kept as long as the model: the server's or this visitor's."""
    run = registry().get(label)
    return _shipped_derived(label) if run is None else run.derived


HELD_OUT = 5_000  # training digits a temperature is fitted on


def _fitted_temperature(label: str) -> float:
    """A temperature fitted on training digits the model never trained on, when that is known.

    Runs trained here keep their validation split; the shipped and uploaded models saw all 60,000
    training digits, so 5,000 of those stand in (for the default model that gives 0.48, against 0.54
    fitted on half the test digits).
    """
    run, data = registry().get(label), mnist()
    if run is not None and run.config is not None:
        indices = split(run.config, data.y_train)[1][:HELD_OUT]
    else:
        indices = np.random.default_rng(0).choice(len(data.y_train), HELD_OUT, replace=False)
    return fit_temperature(predict_proba(model(label), data.x_train[indices] / np.float32(255)), data.y_train[indices])


@st.cache_resource(show_spinner=False)
def _shipped_temperature(label: str) -> float:
    return _fitted_temperature(label)


def temperature(label: str) -> float | None:
    """The model's temperature: always for a shipped model, for a visitor's once the Evaluate page has fitted it."""
    if label in SHIPPED_MODELS:
        return _shipped_temperature(label)
    return derived(label).get("temperature")


def calibration(label: str) -> Calibration:
    """The model's temperature and its test digits' reliability before and after it, computed once per model."""
    store = derived(label)
    if "calibration" not in store:
        store["temperature"] = temperature(label) or _fitted_temperature(label)
        store["calibration"] = calibrate(store["temperature"], test_probabilities(label), mnist().y_test)
    return store["calibration"]


def read_calibrated(picture: np.ndarray) -> Reading | None:
    """The active model's reading of a picture, its probabilities softened or sharpened by its temperature."""
    reading = read_picture(active_model(), picture)
    scale = temperature(active_label())
    if reading is None or scale is None:
        return reading
    return Reading(reading.image, with_temperature(reading.probabilities[None], scale)[0])


@st.cache_resource(show_spinner="Measuring the test digits' handwriting…")
def test_styles() -> dict[str, np.ndarray]:
    """Stroke thickness, slant, width and ink of each test digit: once per server."""
    return style_attributes(mnist().x_test)


def test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of any model on MNIST's test set, computed once."""
    run = registry().get(label)
    if run is None:
        return _shipped_test_probabilities(label)
    if run.test_probabilities is None:
        with st.spinner("Reading the 10,000 test digits…"):
            run.test_probabilities = predict_proba(run.model, mnist().x_test / np.float32(255))
    return run.test_probabilities


def model_labels() -> list[str]:
    return list(SHIPPED_MODELS) + [run.name for run in registry().runs]


def active_label() -> str:
    """The name of the model the visitor picked in the sidebar."""
    choice = st.session_state.get("model_choice")
    return choice if choice in model_labels() else model_labels()[0]


def model(label: str) -> keras.Model:
    """A model by the name the sidebar shows: a shipped one or one of this visitor's."""
    run = registry().get(label)
    return run.model if run is not None else shipped_model(label)


def active_model() -> keras.Model:
    """The model the visitor picked in the sidebar."""
    return model(active_label())


def model_picker() -> None:
    """Sidebar: which model the pages use, the shipped ones and this visitor's own."""
    if "next_model_choice" in st.session_state:  # set after the picker was drawn in the last run
        st.session_state.model_choice = st.session_state.pop("next_model_choice")
    if st.session_state.get("model_choice") not in model_labels():
        st.session_state.model_choice = model_labels()[0]  # a deleted or evicted model
    label = st.sidebar.selectbox("Model", model_labels(), key="model_choice", help="The network every page uses.")
    run = registry().get(label)
    if run is None:
        card = shipped_model_card(label)
        parameters, accuracy = card["parameters"], card["test_accuracy"]
    else:
        parameters, accuracy = run.model.count_params(), run.test_accuracy
    st.sidebar.caption(f"{parameters:,} parameters · {accuracy:.2%} on the 10,000 MNIST test digits")


def rename_model(old: str, key: str) -> None:
    """A run's name field changed: rename it (trimmed), keep it selected if it was, or say why not."""
    new = st.session_state[key].strip()
    try:
        registry().rename(old, new)
    except ValueError as error:
        st.session_state.rename_notice = str(error)
        st.session_state[key] = old
        return
    st.session_state[key] = new  # trimmed once: the field now equals the name, so nothing reruns
    if st.session_state.get("model_choice") == old:
        st.session_state.model_choice = new


def owner_present() -> Callable[[], bool] | None:
    """A check, callable from any thread, of whether this visitor's browser is still connected."""
    context = get_script_run_ctx()
    if context is None or not Runtime.exists():
        return None
    runtime, session = Runtime.instance(), context.session_id
    return lambda: runtime.is_active_session(session)


def _add_uploaded_model(upload) -> tuple[str, str]:
    """Check an uploaded .keras file; a good one joins this visitor's models and becomes the active one."""
    try:
        with st.spinner("Checking your model: its layers, its weights, then the 10,000 test digits…"):
            uploaded = load_uploaded_model(upload.getvalue(), mnist().x_test)
    except ValueError as error:
        return "error", str(error)
    evaluation = Evaluation(mnist().y_test, uploaded.test_probabilities)
    evicted = registry().add_upload(upload.name, uploaded.model, evaluation.probabilities, evaluation.accuracy)
    st.session_state.next_model_choice = registry().runs[-1].name
    notice = f"Added {as_text(registry().runs[-1].name)}; every page now uses it."
    if evicted is not None:
        notice += f" You may keep {MAX_MODELS} models, so {as_text(evicted.name)} was removed."
    return "success", notice


def model_upload() -> None:
    """Sidebar: bring a .keras model trained elsewhere; it stays in this visitor's session only."""
    with st.sidebar.expander("Bring your own model"):
        upload = st.file_uploader(
            "A .keras file that reads 28×28 images into 10 probabilities",
            type=["keras"],
            max_upload_size=int(MAX_MODEL_MB),
            key="model_file",
            help="Checked in a separate process with limits, and loaded with Keras' safe mode: a file with Python "
            "code in it (a Lambda layer) is refused.",
        )
        if upload is not None and st.session_state.get("model_file_checked") != upload.file_id:
            st.session_state.model_file_checked = upload.file_id  # each file is checked once
            st.session_state.model_notice = _add_uploaded_model(upload)
            if st.session_state.model_notice[0] == "success":
                st.rerun()  # the sidebar's picker above now lists the new model
        kind, message = st.session_state.pop("model_notice", (None, None))
        if kind == "error":
            st.error(message)
        elif kind == "success":
            st.success(message)
