"""The Generate page's views: the shipped generators, what is the same for every visitor made once for the server,
and one generation at a time in the server for everything else.

Sampling runs in the server, not in a run's process: 16 samples take about a second, less than a child process
takes to start. What fifty phones ask alike (a digit's samples at a setting, the map, how close test digits come
to the training set) is kept for the server (ui.shared); what one visitor asks (their drawing finished or turned)
waits its turn behind a semaphore, so a room pressing at once queues instead of piling up in memory.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from core.figures.pictures import enlarge
from core.generation import (
    GUIDANCE,
    STEPS,
    Generator,
    complete,
    generator_paths,
    load_generator,
    map_grid,
    place_on_map,
    sample,
    trajectory,
    transform,
)
from core.generation.copies import Nearest, nearest
from core.i18n import N_, _
from core.models import predict_proba
from ui.models import active_label, mnist
from ui.shared import of_model, png_urls, shared
from ui.text import VisitorError, spinning

SAMPLES = 16  # pictures per press, as a 4 × 4 grid
EVERY = 2  # the denoising strip shows every second step
STRENGTHS = (0.2, 0.4, 0.6, 0.8, 1.0)  # Turn it into…: from the drawing to a new digit
SHOWN = 72  # px per picture in a gallery
TEST_DIGITS = 1000  # held-out digits whose distance to the training set is the yardstick for a copy
_DRAWING = threading.Semaphore(1)  # one generation in the server at a time, whoever asks


def readings(pictures: np.ndarray) -> list[str]:
    """What the sidebar's model reads each picture as."""
    read = of_model(active_label(), predict_proba, np.asarray(pictures, np.float32)).argmax(axis=1)
    return [_("reads {digit}").format(digit=digit) for digit in read]


def gallery(pictures: np.ndarray, captions: list[str] | None = None) -> None:
    st.image(png_urls(enlarge, pictures, factor=3), caption=captions, width=SHOWN)  # 84 px pictures, crisp


def available(name: str = "diffusion") -> bool:
    """Whether the shipped generator's file is there (`python -m scripts.train_generator` makes it)."""
    return generator_paths(name)[0].exists()


@spinning(N_("Loading the generator…"))
@st.cache_resource(show_spinner=False)
def generator(name: str = "diffusion") -> Generator:
    """A shipped generator, loaded once for the server and never changed."""
    return load_generator(name)


def _one_at_a_time(function, *args, **kwargs):
    with _DRAWING:
        return function(*args, **kwargs)


@shared(max_entries=64)
def denoising(name: str, digit: int, guidance: float, seed: int) -> np.ndarray:
    """(frames, SAMPLES, 28, 28): the samples for a setting as they are drawn, every EVERY steps and the last."""
    if name == "vae":  # one pass: no steps to show
        return _one_at_a_time(sample, generator("vae"), [digit] * SAMPLES, seed=seed)[None]
    digits = [digit] * SAMPLES
    return _one_at_a_time(trajectory, generator(name), digits, steps=STEPS, guidance=guidance, seed=seed, every=EVERY)


def samples(name: str, digit: int, guidance: float = GUIDANCE, seed: int = 0) -> np.ndarray:
    """(SAMPLES, 28, 28): the last frame of `denoising` (the same for every visitor who asks the same)."""
    return denoising(name, digit, guidance, seed)[-1]


@shared(max_entries=64)
def completions(image: np.ndarray, known: np.ndarray, digit: int, seed: int) -> np.ndarray:
    """Four ways to finish a drawing where `known` is true."""
    try:
        return _one_at_a_time(complete, generator(), image, known, digit=digit, count=4, seed=seed)
    except ValueError as error:
        raise VisitorError(str(error)) from None


@shared(max_entries=64)
def turned(image: np.ndarray, digit: int, seed: int) -> np.ndarray:
    """(len(STRENGTHS), 28, 28): a drawing carried toward `digit`, from a light touch to a new picture."""
    return np.stack([_one_at_a_time(transform, generator(), image, digit, strength=s, seed=seed) for s in STRENGTHS])


@shared(max_entries=64)
def copies(pictures: np.ndarray) -> Nearest:
    """Each picture's nearest training digit and whether it is a near-copy (core.generation.copies)."""
    return nearest(pictures, mnist().x_train / np.float32(255))


@shared(max_entries=1)
def test_closeness() -> Nearest:
    """How near held-out test digits come to the training set: what no generator copied."""
    data = mnist()
    return nearest(data.x_test[:TEST_DIGITS] / np.float32(255), data.x_train / np.float32(255))


@shared(max_entries=1)
def the_map() -> np.ndarray:
    """The 2-D VAE's plane as a 15 × 15 grid of digits, decoded once for the server."""
    return map_grid(generator("map"))


def placed(image: np.ndarray) -> np.ndarray:
    """Where the map's VAE puts a drawing."""
    return place_on_map(generator("map"), image)


KEPT = {  # what part of a drawing Finish keeps, the rest drawn anew
    "top": N_("the top half"),
    "bottom": N_("the bottom half"),
    "left": N_("the left half"),
    "right": N_("the right half"),
}


def kept_mask(part: str) -> np.ndarray:
    """The (28, 28) mask of a drawing's `part` (a key of KEPT)."""
    mask = np.zeros((28, 28), bool)
    rows, columns = np.indices(mask.shape)
    chosen = {"top": rows < 14, "bottom": rows >= 14, "left": columns < 14, "right": columns >= 14}[part]
    mask[chosen] = True
    return mask
