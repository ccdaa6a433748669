"""A run's own process: forked from a server that has imported TensorFlow, at a lower priority, held to its
memory, in a temporary folder of its own; and a short isolated call (`run_isolated`) in one.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.spawn
import os
import tempfile
import threading
import time
from collections.abc import Callable

from core.i18n import Text
from core.runs import line
from core.runs.runtime import cap_malloc_arenas, limit_memory, out_of_memory, trim_memory

NICENESS = int(os.environ.get("DIGITLAB_TRAIN_NICENESS", "10"))  # how far below the server a run's priority is
MEMORY_HEADROOM_MB = 1024.0  # above a run's estimate: its hard limit (VmData, which counts virtual memory)
ISOLATED_MB = 600.0  # what a short isolated run (an upload's check, a heavy view) reserves of the host's budget
ISOLATED_WAIT_SECONDS = 30.0  # how long a short isolated run waits for memory before it is refused
IDLE_SECONDS = float(os.environ.get("DIGITLAB_IDLE_SECONDS", "180"))  # no run this long: the forkserver is stopped
SHORT_LIVED = "DIGITLAB_SHORT_LIVED"  # set in a run's process: what it traces goes when it ends (core.models)
PROCESSES = multiprocessing.get_context("forkserver")
_preloaded: list[str] = ["core.runs.job"]  # imported once, in the server that forks the runs: TensorFlow with them
log = logging.getLogger(__name__)
_idle_watch: threading.Thread | None = None


def preload(module: str) -> None:
    """Have the process runs fork from import `module` (whose functions run there) before it forks any."""
    if module not in _preloaded:
        _preloaded.append(module)
        PROCESSES.set_forkserver_preload(list(_preloaded))


PROCESSES.set_forkserver_preload(list(_preloaded))


def warm_forkserver() -> None:
    """Start the process that forks the runs (it imports TensorFlow: seconds) so the first run need not wait.

    It is stopped again after IDLE_SECONDS without a run, which returns its memory to the host.
    """
    global _idle_watch
    line.MEMORY.last_used = max(line.MEMORY.last_used, time.monotonic())
    with _starting:
        multiprocessing.forkserver.ensure_running()
        if _idle_watch is None:
            _idle_watch = threading.Thread(target=_stop_when_idle, name="digitlab-idle", daemon=True)
            _idle_watch.start()


def idle() -> bool:
    """No run going or waiting, and none for IDLE_SECONDS."""
    quiet = not line.MEMORY.busy() and not line.LINE.busy()
    return quiet and time.monotonic() - line.MEMORY.last_used > IDLE_SECONDS


def _stop_when_idle() -> None:
    """Every few seconds: once idle, stop the forkserver (it holds its own TensorFlow) and return freed memory."""
    while True:
        time.sleep(min(10.0, IDLE_SECONDS / 3))
        if idle():
            with _starting:
                if idle():
                    server = multiprocessing.forkserver._forkserver
                    if server._forkserver_pid is not None:
                        log.info("no run for %.0f s: stopping the process runs fork from", IDLE_SECONDS)
                        server._stop()
                        trim_memory()


class IsolatedRunError(RuntimeError):
    """A child process ran out of its memory or time, or died; the message says which in plain words."""


def run_isolated(function: Callable, *args, memory_mb: float, seconds: float):
    """function(*args) in a short-lived child process: its return value.

    The child may use `memory_mb` more memory than it starts with and `seconds` of time, works in a
    temporary folder that is removed afterwards whatever happens, and runs at the trainings' lower
    priority. A ValueError the function raises is raised here with its message (meant for the
    visitor); running out of memory or time, or dying, raises IsolatedRunError.
    """
    holder = object()
    deadline = time.monotonic() + ISOLATED_WAIT_SECONDS
    while not line.MEMORY.reserve(holder, ISOLATED_MB):
        if time.monotonic() > deadline:
            raise IsolatedRunError(Text("the server's memory is taken by other visitors' runs; try again in a minute"))
        time.sleep(0.5)
    receive, send = PROCESSES.Pipe(duplex=False)
    try:
        with tempfile.TemporaryDirectory(prefix="digitlab-check-") as folder:
            process = start_child(_call_in_child, (function, args, send), memory_mb=memory_mb, folder=folder)
            line.MEMORY.started(holder, process.pid)
            send.close()
            try:
                if not receive.poll(timeout=seconds):
                    raise IsolatedRunError(Text("it took longer than the {seconds:g} seconds allowed", seconds=seconds))
                try:
                    kind, value = receive.recv()
                except EOFError:
                    raise IsolatedRunError(Text("its check ended unexpectedly, perhaps for lack of memory")) from None
            finally:
                end_child(process)
    finally:
        receive.close()
        line.MEMORY.release(holder)
        line.LINE.retry()
    if kind == "refused":
        raise ValueError(value)
    if kind == "memory":
        raise IsolatedRunError(
            Text("it needs more than the {memory_mb:,.0f} MB of memory allowed", memory_mb=memory_mb)
        )
    if kind == "failed":
        raise IsolatedRunError(value)
    return value


def start_child(target: Callable, args: tuple, *, memory_mb: float, folder: str):
    """Start target(*args) in a child process held to `memory_mb` above its start, working in `folder`."""
    warm_forkserver()  # the forkserver may have been stopped while idle
    process = PROCESSES.Process(target=_child, args=(target, args, memory_mb, folder), daemon=True)
    with _app_script_not_rerun():
        process.start()
    return process


def end_child(process, *, grace: float = 0.5) -> None:
    """Give a child `grace` seconds to exit on its own, then end it."""
    process.join(timeout=grace)
    if process.is_alive():
        process.kill()
        process.join()


def _child(target: Callable, args: tuple, memory_mb: float, folder: str) -> None:
    """In the child: lower priority, cap memory, keep temporary files in `folder`, then run the target."""
    os.nice(NICENESS)  # before TensorFlow starts its threads, which inherit it
    cap_malloc_arenas()  # as in the server: TensorFlow's threads would otherwise each grow an arena of memory
    os.environ["TMPDIR"] = tempfile.tempdir = folder  # Keras unpacks archives here; the parent removes it
    os.environ[SHORT_LIVED] = "1"  # what this process traces goes with it
    limit_memory(memory_mb)
    target(*args)


def _call_in_child(function: Callable, args: tuple, send) -> None:
    try:
        send.send(("done", function(*args)))
    except ValueError as error:
        send.send(("refused", str(error)))
    except Exception as error:
        if out_of_memory(error):
            send.send(("memory", None))
        else:
            log.exception("isolated run failed")
            send.send(("failed", Text("it failed in a way Digit Lab did not expect")))
    finally:
        send.close()


_starting = threading.Lock()


@contextlib.contextmanager
def _app_script_not_rerun():
    """Start a child without re-running the app in it.

    multiprocessing re-runs the parent's __main__ module in each child, and under Streamlit
    __main__ is the app script; a child that ran it would start drawing a page. The training code
    lives in this importable module, so the child needs nothing from __main__.
    """
    preparation_data = multiprocessing.spawn.get_preparation_data

    def without_main(name):
        data = preparation_data(name)
        data.pop("init_main_from_path", None)
        return data

    with _starting:
        multiprocessing.spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            multiprocessing.spawn.get_preparation_data = preparation_data
