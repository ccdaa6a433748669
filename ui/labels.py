"""The Labels page's views: the shipped sweep and map, the digits offered for labelling (the same for everyone at
a seed, so made once for the server), and the visitor's fit on their labels through the runner."""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from core.figures.labels import feature_map, labels_curve
from core.figures.pictures import enlarge
from core.i18n import N_, _
from core.jobs.labels import LabelsJob
from core.labels import BEST, choice
from core.labels.encoder import ENCODER_PATH, features, load_encoder
from core.labels.sweep import curve, load, random_median
from core.labels.votes import Votes
from core.models import model_from_bytes
from core.runs.line import ServerBusyError
from ui.models import mnist, registry
from ui.runs import follow_run, in_line
from ui.session import job_owner
from ui.shared import chart, png_urls, shared
from ui.stage import client_author, presenter_proven, visitor_token
from ui.text import as_text, error_boundary, spinning

SIZES = (10, 20, 30, 50, 100)  # digits offered for labelling at once
SHOWN = 56  # px per offered digit
CELL = 84  # px per offered digit and its label box
UNSURE = -1  # the label of a digit the visitor has not labelled
ROOM = ("typical", 20, 0)  # the room's shared digits: the network's choice of 20, at seed 0
_CHOOSING = threading.Semaphore(1)  # one choice computed in the server at a time, whoever asks


def available() -> bool:
    """Whether the encoder is shipped (`python -m scripts.pretrain` makes it)."""
    return ENCODER_PATH.exists()


@st.cache_resource(show_spinner=False)
def _encoder():
    return load_encoder()


@shared(max_entries=1)
def shipped_sweep() -> dict | None:
    return load()


@shared(max_entries=4)
def _pool_features(seed: int) -> np.ndarray:
    with _CHOOSING:
        return features(_encoder(), mnist().x_train[choice.pool(seed)] / np.float32(255))


@spinning(N_("Choosing the digits to ask you about…"))
@shared(max_entries=64)
def offered(how: str, count: int, seed: int) -> np.ndarray:
    """The training digits (indices) offered at this choice, count and seed: the same for every visitor."""
    pool = choice.pool(seed)
    if how == "random":
        return pool[choice.at_random(len(pool), count, seed=seed)]
    found = _pool_features(seed)
    with _CHOOSING:
        return pool[choice.typical(found, count, seed=seed)]


def curve_chart(own: list[tuple[int, float, str]]):
    sweep = shipped_sweep()
    return chart(labels_curve, curve(sweep["rows"]) if sweep else {}, own)


def map_chart():
    sweep = shipped_sweep()
    if sweep is None:
        return None
    digits = mnist().y_test[sweep["map"]["test_digits"]].tolist()
    return chart(feature_map, sweep["map"]["xy"], digits)


def random_20() -> float | None:
    """The shipped median of 20 labels at random, trained by the page's method, or None."""
    sweep = shipped_sweep()
    return random_median(sweep) if sweep else None


def label_grid(indices: np.ndarray, key: str) -> dict[int, int]:
    """The offered digits with a label box each: {training index: label} for those the visitor labelled."""
    pictures = png_urls(enlarge, mnist().x_train[indices], factor=2)
    given, grid = {}, st.container(horizontal=True, gap="medium")  # wraps: three a row on a phone, ten on a screen
    for position, (index, picture) in enumerate(zip(indices, pictures, strict=True)):
        cell = grid.container(width=CELL)
        cell.image(picture, width=SHOWN)
        label = cell.selectbox(
            _("Digit {number}").format(number=position + 1),
            [UNSURE, *range(10)],
            format_func=lambda d: "?" if d == UNSURE else str(d),
            key=f"{key}_{index}",
            label_visibility="collapsed",
        )
        if label != UNSURE:
            given[int(index)] = int(label)
    return given


@st.cache_resource(show_spinner=False)
def room_votes() -> Votes:
    """The room's labels of its shared digits, on this server."""
    return Votes(offered(*ROOM).tolist())


@st.cache_resource(show_spinner=False)
def room_result() -> dict:
    """The presenter's run on the room's labels, once it has ended: {"accuracy": ..., "labels": ...}."""
    return {}


def room_grid() -> None:
    """The room's digits, this visitor's labels of them counted with everyone's, the room's labels so far, and for
    the presenter a run on them."""
    votes = room_votes()
    given = label_grid(np.asarray(votes.digits), key="room_label")
    me, address = visitor_token(), client_author()
    counted = all([votes.vote(me, address, digit, given.get(digit)) for digit in votes.digits])
    if given and not counted:
        st.caption(_("This room already counts as many phones from your network as it takes: your labels are yours."))
    tally = votes.tally()
    st.markdown(
        _("**The room's labels**, from {voters} phones: {labels}").format(
            voters=votes.voters(),
            labels=" · ".join("?" if digit not in tally else str(tally[digit][0]) for digit in votes.digits),
        )
    )
    if room_result():
        st.success(
            _("Trained once on the room's {count} labels: {accuracy:.1%} of the test digits read right.").format(
                **room_result()
            )
        )
    if presenter_proven() and tally and st.button(_("Train on the room's labels"), icon=":material/groups:"):
        start({digit: label for digit, (label, _count, _all) in tally.items()}, BEST, for_room=True)


def start(given: dict[int, int], method: str, *, for_room: bool = False) -> None:
    """The visitor's fit on their labels, in line like every run; a plain reason if it may not start."""
    try:
        job = LabelsJob(list(given), list(given.values()), method, mnist(), **job_owner())
        job.start()
    except (ValueError, ServerBusyError) as error:
        st.error(as_text(error))
        return
    st.session_state.labels_job, st.session_state.labels_saved = job, False
    st.session_state.labels_for_room = for_room


def live() -> None:
    job = st.session_state.get("labels_job")
    st.fragment(run_every=1.0 if job is not None and job.running else None)(_live)()


@error_boundary("training on your labels")  # a fragment's rerun is outside the page's boundary
def _live() -> None:
    job = st.session_state.get("labels_job")
    if job is None or (job.waiting and in_line(job)) or follow_run(job, key="labels"):
        return
    if job.error:
        st.error(as_text(job.error))
    elif job.result is not None and not st.session_state.get("labels_saved"):
        labels = len(job.args[0])
        registry().add_model(
            "labels",
            _("{count} labels").format(count=labels),
            model_from_bytes(job.result.model),
            job.result.test_probabilities,
            job.result.test_accuracy,
        )
        st.session_state.setdefault("labels_runs", []).append((labels, job.result.test_accuracy, job.args[2]))
        if st.session_state.get("labels_for_room"):
            room_result().update(count=labels, accuracy=job.result.test_accuracy)
        st.session_state.labels_saved = True
        st.rerun()  # the whole page: the sidebar lists the model, the curve shows the star
