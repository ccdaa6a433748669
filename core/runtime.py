"""Process-wide settings that keep the server's memory in check."""

from __future__ import annotations

import ctypes
import functools

M_ARENA_MAX = -8  # glibc mallopt() parameter: the most malloc arenas the process may create
MALLOC_ARENAS = 2  # one per core here; glibc's default (8 per core) let TensorFlow's threads grow RSS by ~0.5 GB


@functools.cache  # app.py runs on every rerun; the setting lasts for the process
def cap_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Limit glibc's malloc arenas (like MALLOC_ARENA_MAX); False where the C library is not glibc."""
    try:
        # The process's own symbols include the C library's. ctypes.util.find_library("c") would
        # run `ldconfig -p` in a new process: a fork of the whole server on every rerun.
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError, TypeError):
        return False
