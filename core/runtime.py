"""Process-wide settings that keep the server fast and its memory in check."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

from streamlit.runtime.scriptrunner import script_runner

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc mallopt() parameter: the most malloc arenas the process may create
MALLOC_ARENAS = 2  # one per core here; glibc's default (8 per core) let TensorFlow's threads grow RSS by ~0.5 GB


def cap_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Limit glibc's malloc arenas (like MALLOC_ARENA_MAX); False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError, TypeError):
        return False


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
