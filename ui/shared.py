"""What is the same for every visitor is made once for the server, not once a phone.

A room following a talk opens a chapter on fifty phones at once, each on the shipped model and the chapter's own
digit. Their page runs share one core's worth of Python: what a run computes, every phone waits for fifty times.
So a shipped model's answers, the charts built from the same numbers and the pictures encoded from the same pixels
come from bounded caches shared by the whole server (bench/talk measures the followers' wait). A visitor's own
model is computed for them alone, as before.
"""

from __future__ import annotations

import base64
import hashlib
import io
import pickle
import types
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from core.explain import Explanation, explain
from core.models import SHIPPED_MODELS
from ui.models import model, shipped_model
from ui.talk import TALK_720_FIGURE_HEIGHT, presenting, screen


def _digest(value) -> bytes:
    return hashlib.md5(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), usedforsecurity=False).digest()


# How the caches below know their inputs: a function by its name; containers by their pickle, 50 times faster than
# Streamlit's walk through every element (15 ms for the privacy sweep, in every run of its page).
_KEYS = {
    types.FunctionType: lambda function: f"{function.__module__}.{function.__qualname__}",
    tuple: _digest,
    list: _digest,
    dict: _digest,
}


# Bounded: a visitor's drawings make new keys. An entry is at most ~150 KB (Explain's feature maps), a picture ~5 KB.
@st.cache_data(max_entries=256, show_spinner=False, hash_funcs=_KEYS)
def _of_shipped(label: str, function: Callable, args: tuple, kwargs: dict):
    return function(shipped_model(label), *args, **kwargs)


def of_model(label: str, function: Callable, *args, **kwargs):
    """`function(the sidebar model called label, *args, **kwargs)`: a shipped model's answer is kept for the server
    (the arguments are its key: pictures, digits, settings), another model's is computed now."""
    if label in SHIPPED_MODELS:
        return _of_shipped(label, function, args, kwargs)
    return function(model(label), *args, **kwargs)


@st.cache_resource(max_entries=256, show_spinner=False, hash_funcs=_KEYS)
def _chart(builder: Callable, args: tuple, kwargs: dict, height: int | None) -> go.Figure:
    figure = builder(*args, **kwargs)
    if height is not None and (figure.layout.height or 450) > height:
        figure.update_layout(height=height)
    return figure


def chart(builder: Callable[..., go.Figure], *args, fit: bool = False, **kwargs) -> go.Figure:
    """`builder(*args, **kwargs)`, built once for the same numbers and shared: never change the figure it returns.

    `fit`: the chapter's chart, which on a 720-line projector must fit whole under the presenter's bar."""
    fits = fit and presenting() and screen() == 720
    return _chart(builder, args, kwargs, TALK_720_FIGURE_HEIGHT if fits else None)


def _png_url(picture: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(np.asarray(picture, np.uint8)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@st.cache_data(max_entries=2048, show_spinner=False, hash_funcs=_KEYS)
def png_url(builder: Callable[..., np.ndarray], *args, **kwargs) -> str:
    """The picture `builder(*args, **kwargs)` (uint8, grey or RGB) as a PNG data URL for `st.image`, encoded once.

    `st.image` passes a URL through as it is: no decoding, re-encoding or resizing in every run (it would resize a
    picture wider than shown, and turn PNG bytes into JPEG), and no file to serve."""
    return _png_url(builder(*args, **kwargs))


@st.cache_data(max_entries=512, show_spinner=False, hash_funcs=_KEYS)
def png_urls(builder: Callable[..., np.ndarray], values: list | np.ndarray, **kwargs) -> list[str]:
    """`png_url(builder, value, **kwargs)` for each of `values` (a gallery): one cache key for them all."""
    return [_png_url(builder(value, **kwargs)) for value in values]


def explanation(label: str, image: np.ndarray, target: int) -> Explanation:
    """Every attribution of `target` for `image` by a sidebar model (a shipped model's: once for the server)."""
    return of_model(label, explain, np.asarray(image, np.float32), int(target))
