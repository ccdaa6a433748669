"""Process-wide settings that keep the server's memory in check."""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc mallopt() parameter: the most malloc arenas the process may create
MALLOC_ARENAS = 2  # one per core here; glibc's default (8 per core) let TensorFlow's threads grow RSS by ~0.5 GB


def cap_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Limit glibc's malloc arenas (like MALLOC_ARENA_MAX); False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError, TypeError):
        return False
