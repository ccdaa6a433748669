"""Process-wide settings that keep the server's memory in check, and a child process's memory within a limit."""

from __future__ import annotations

import ctypes
import functools
import resource

from core.i18n import Text

M_ARENA_MAX = -8  # glibc mallopt() parameter: the most malloc arenas the process may create
MALLOC_ARENAS = 2  # one per core here; glibc's default is 8 per core, one for each of TensorFlow's threads


@functools.cache  # app.py runs on every rerun; the setting lasts for the process
def cap_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Limit glibc's malloc arenas (like MALLOC_ARENA_MAX); False where the C library is not glibc."""
    try:
        # The process's own symbols include the C library's. ctypes.util.find_library("c") would
        # run `ldconfig -p` in a new process: a fork of the whole server on every rerun.
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError, TypeError):
        return False


def _data_megabytes() -> float:
    """This process's data and private mappings (VmData), what RLIMIT_DATA counts."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) / 1024
    raise OSError(Text("no VmData in /proc/self/status"))


def limit_memory(megabytes: float) -> bool:
    """Let this process allocate at most `megabytes` more; past it, allocations fail (MemoryError or OOM).

    RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves far more address space than it uses. False where
    the kernel has no such limit (not Linux).
    """
    try:
        limit = int((_data_megabytes() + megabytes) * 2**20)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        return True
    except (OSError, ValueError):
        return False


def out_of_memory(error: BaseException) -> bool:
    """Whether an exception means an allocation failed: Python's MemoryError or TensorFlow's OOM."""
    return isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError" or "OOM" in str(error)


def trim_memory() -> bool:
    """Hand the C library's free memory back to the system (glibc's malloc_trim); False where there is none."""
    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError, TypeError):
        return False
