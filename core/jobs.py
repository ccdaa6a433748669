"""Training in the background: each run in its own low-priority process, a server-wide cap, a time limit.

A run trains in a child process at a lower CPU priority (nice), so a visitor drawing a digit is
never queued behind a training for the server's cores or for Python's GIL; the run's memory goes
back to the system when it ends; and a run that dies (e.g. out of memory) ends with a message
instead of taking the server down. The children fork from one server process that has imported
TensorFlow already, so a run does not wait ~6 s to import it: an MLP's first progress report
comes 2.1 s after start, data transfer, model build and its first 25 steps included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.spawn
import os
import threading
import time

from core.data import Mnist
from core.models import model_bytes, model_from_bytes
from core.runtime import cap_malloc_arenas
from core.training import Progress, TrainConfig, TrainResult, train

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", "2"))  # trainings running at once, server-wide
MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
NICENESS = int(os.environ.get("DIGITLAB_TRAIN_NICENESS", "10"))  # how far below the server a run's priority is
FINISH_SECONDS = 120.0  # after the time limit: for the test-set evaluation, then the run is killed
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)  # a shared limit, holding nobody's data
_processes = multiprocessing.get_context("forkserver")
_processes.set_forkserver_preload(["core.jobs"])  # imports TensorFlow once, in the server that forks the runs
log = logging.getLogger(__name__)


def prepare() -> None:
    """Start the process that forks the runs (it imports TensorFlow, ~6 s) so the first run need not wait."""
    multiprocessing.forkserver.ensure_running()


class ServerBusyError(RuntimeError):
    """Every training slot is taken; the message says so in plain words."""


class TrainingJob:
    """One training run in a child process; the page polls `progress` and `result`."""

    def __init__(self, config: TrainConfig, data: Mnist, *, max_seconds: float = MAX_SECONDS) -> None:
        config.validate()
        self.config, self.data, self.max_seconds = config, data, max_seconds
        self.progress: Progress | None = None
        self.result: TrainResult | None = None
        self.error: str | None = None
        self.timed_out = False
        self.pid: int | None = None  # of the process that trains, once it has started
        self._stop = _processes.Event()
        self._thread = threading.Thread(target=self._run, name="training", daemon=True)

    def start(self) -> None:
        """Start training, or raise ServerBusyError if the server is already training its limit."""
        if not _slots.acquire(blocking=False):
            raise ServerBusyError(
                f"The server is already training {MAX_CONCURRENT} networks, its limit. Try again in a minute."
            )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        receive, send = _processes.Pipe(duplex=False)
        process = _processes.Process(
            target=_train_in_child, args=(self.config, self.data, send, self._stop, self.max_seconds), daemon=True
        )
        try:
            with _app_script_not_rerun():
                process.start()
            send.close()  # the child holds the only sending end: its exit reads as end-of-file here
            self.pid = process.pid
            self._follow(receive, deadline=time.monotonic() + self.max_seconds + FINISH_SECONDS)
        except Exception:  # a failed run must not take the server down; the page shows a message
            log.exception("training failed")
            self.error = "Training failed unexpectedly. Try a smaller configuration."
        finally:
            receive.close()
            if self.pid is not None:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
                    process.join()
            _slots.release()

    def _follow(self, receive, *, deadline: float) -> None:
        """Take the child's progress reports until its result, its error, its end, or the deadline."""
        while True:
            if not receive.poll(timeout=1.0):
                if time.monotonic() > deadline:
                    self.error = "Training took far longer than this server allows and was ended."
                    return
                continue
            try:
                kind, value = receive.recv()
            except EOFError:  # the child ended without a word: killed, or out of memory
                log.error("training process ended without a result")
                self.error = "Training stopped unexpectedly, perhaps for lack of memory. Try a smaller configuration."
                return
            if kind == "progress":
                self.progress = value
            elif kind == "error":
                self.error = value
                return
            else:  # "result": the model travels as a .keras file
                data, result, self.timed_out = value
                self.result = dataclasses.replace(result, model=model_from_bytes(data))
                return


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


def _train_in_child(config: TrainConfig, data: Mnist, send, stop, max_seconds: float) -> None:
    """The child process: train at a lower priority and send progress, then the result or an error."""
    os.nice(NICENESS)  # before TensorFlow starts its threads, which inherit it
    cap_malloc_arenas()  # as in the server: TensorFlow's threads would otherwise grow memory by ~0.5 GB
    started = time.monotonic()
    timed_out = False

    def should_stop() -> bool:
        nonlocal timed_out
        timed_out = timed_out or time.monotonic() - started > max_seconds
        return stop.is_set() or timed_out

    try:
        result = train(
            config, data, on_progress=lambda progress: send.send(("progress", progress)), should_stop=should_stop
        )
        send.send(("result", (model_bytes(result.model), dataclasses.replace(result, model=None), timed_out)))
    except Exception:
        log.exception("training failed")
        send.send(("error", "Training failed unexpectedly. Try a smaller configuration."))
    finally:
        send.close()
