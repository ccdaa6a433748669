"""What is the same for every visitor is made once for the server, not once a phone.

A room following a talk opens a chapter on fifty phones at once, each on the shipped model and the chapter's own
digit. Their page runs share one core's worth of Python: what a run computes, every phone waits for fifty times.
So a shipped model's answers, the charts built from the same numbers and the pictures encoded from the same pixels
come from bounded caches shared by the whole server (bench/talk measures the followers' wait). A visitor's own
model is computed for them alone, as before.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import io
import pickle
import threading
import types
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core import i18n
from core.explain import Explanation, explain
from core.models import SHIPPED_MODELS
from ui.models import model, shipped_model


class _Names(pickle.Pickler):
    """Pickles a function by its qualified name: a builder or a model function is part of a key, not its code."""

    def reducer_override(self, value):
        if isinstance(value, types.FunctionType):
            return str, (f"{value.__module__}.{value.__qualname__}",)
        return NotImplemented


def _key(function: Callable, args: tuple, kwargs: dict) -> bytes:
    out = io.BytesIO()
    _Names(out, protocol=pickle.HIGHEST_PROTOCOL).dump((function, args, sorted(kwargs.items())))
    return hashlib.md5(out.getbuffer(), usedforsecurity=False).digest()


def _read_only(value):
    """`value` with every array in it made read-only: one object is handed to every visitor."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, (list, tuple)):
        for item in value:
            _read_only(item)
    elif isinstance(value, dict):
        for item in value.values():
            _read_only(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _read_only(getattr(value, field.name))
    return value


class _Shared:
    """`function`'s answers, kept for the whole server: at most `max_entries` of them, the least recently used leaving
    first; each computed once even when fifty phones ask at the same moment.

    Not Streamlit's caches: for every call they look up the function's signature and walk each argument through their
    hasher (a fifth of an Explain run's Python), and `st.cache_data` unpickles a copy of its answer on every hit. Here
    the key is the arguments' pickle, and every caller gets the same answer, its arrays read-only."""

    def __init__(self, function: Callable, max_entries: int) -> None:
        self.function, self.max_entries = function, max_entries
        self._answers: OrderedDict[bytes, object] = OrderedDict()
        self._computing: dict[bytes, threading.Lock] = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, function)

    def _kept(self, key: bytes):
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return True, self._answers[key]
            return False, self._computing.setdefault(key, threading.Lock())

    def __call__(self, *args, **kwargs):
        key = _key(self.function, args, kwargs)
        found, answer = self._kept(key)
        if found:
            return answer
        with answer:  # the first asker computes; the others wait for its answer
            found, answer = self._kept(key)
            if found:
                return answer
            try:
                answer = _read_only(self.function(*args, **kwargs))
                with self._lock:
                    self._answers[key] = answer
                    while len(self._answers) > self.max_entries:
                        self._answers.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return answer


def shared(max_entries: int) -> Callable[[Callable], _Shared]:
    """A decorator: the function's answers kept for the whole server (`_Shared`)."""
    return lambda function: _Shared(function, max_entries)


# Bounded: a visitor's drawings make new keys. An entry is at most ~150 KB (Explain's feature maps), a picture ~5 KB.
@shared(max_entries=256)
def _of_shipped(label: str, function: Callable, args: tuple, kwargs: dict):
    return function(shipped_model(label), *args, **kwargs)


def of_model(label: str, function: Callable, *args, **kwargs):
    """`function(the sidebar model called label, *args, **kwargs)`: a shipped model's answer is kept for the server
    (the arguments are its key: pictures, digits, settings), another model's is computed now."""
    if label in SHIPPED_MODELS:
        return _of_shipped(label, function, args, kwargs)
    return function(model(label), *args, **kwargs)


class SharedFigure(go.Figure):
    """A figure every visitor is shown as it is: what the browser is sent of it is made once.

    `st.plotly_chart` asks a figure for `to_dict()` in every run, and plotly answers with a deep copy of the whole
    figure, its arrays converted again, in every run of every phone that shows it."""

    def __init__(self, figure: go.Figure) -> None:
        super().__init__(figure)
        self._sent = super().to_dict()

    def to_dict(self) -> dict:
        return self._sent


@shared(max_entries=256)
def _chart(builder: Callable, args: tuple, kwargs: dict, height: int | None, language: str) -> SharedFigure:
    figure = builder(*args, **kwargs)
    if height is not None and (figure.layout.height or 450) > height:
        figure.update_layout(height=height)
    return SharedFigure(figure)


def chart(builder: Callable[..., go.Figure], *args, height: int | None = None, **kwargs) -> SharedFigure:
    """`builder(*args, **kwargs)`, built once for the same numbers and shared: never change the figure it returns.

    `height`: in pixels, if the figure must have one (a chapter's chart under the presenter's bar). The figure's
    words are in the visitor's language, which is part of the key: each language's chart is made once."""
    return _chart(builder, args, kwargs, height, i18n.language())


def _png_url(picture: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(np.asarray(picture, np.uint8)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@shared(max_entries=2048)
def png_url(builder: Callable[..., np.ndarray], *args, **kwargs) -> str:
    """The picture `builder(*args, **kwargs)` (uint8, grey or RGB) as a PNG data URL for `st.image`, encoded once.

    `st.image` passes a URL through as it is: no decoding, re-encoding or resizing in every run (it would resize a
    picture wider than shown, and turn PNG bytes into JPEG), and no file to serve."""
    return _png_url(builder(*args, **kwargs))


@shared(max_entries=512)
def png_urls(builder: Callable[..., np.ndarray], values: list | np.ndarray, **kwargs) -> list[str]:
    """`png_url(builder, value, **kwargs)` for each of `values` (a gallery): one cache key for them all."""
    return [_png_url(builder(value, **kwargs)) for value in values]


def explanation(label: str, image: np.ndarray, target: int) -> Explanation:
    """Every attribution of `target` for `image` by a sidebar model (a shipped model's: once for the server)."""
    return of_model(label, explain, np.asarray(image, np.float32), int(target))
