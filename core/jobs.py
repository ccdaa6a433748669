"""Training in the background: one job per run, a server-wide cap on concurrent runs, a time limit."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from core.data import Mnist
from core.training import Progress, TrainConfig, TrainResult, train

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", "2"))  # trainings running at once, server-wide
MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
MAX_PAUSE = 2.0  # seconds a training waits for visitors' page runs to end before it takes one more step
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)  # a shared limit, holding nobody's data
log = logging.getLogger(__name__)


class _Foreground:
    """Counts visitors' page runs in progress, so training can step aside for them."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = threading.Condition()

    @contextmanager
    def run(self) -> Iterator[None]:
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                if self._running == 0:
                    self._idle.notify_all()

    def wait_until_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout)


_foreground = _Foreground()  # a count shared by everyone, holding nobody's data


def visitor_run():
    """Wrap a visitor's page run: trainings pause between steps until no page run is in progress.

    Training and a page's prediction share TensorFlow's thread pool on the server's two cores;
    without this, a drawing's 5 ms prediction queues behind seconds of training work.
    """
    return _foreground.run()


class ServerBusyError(RuntimeError):
    """Every training slot is taken; the message says so in plain words."""


class TrainingJob:
    """One training run on a background thread; the page polls `progress` and `result`."""

    def __init__(self, config: TrainConfig, data: Mnist, *, max_seconds: float = MAX_SECONDS) -> None:
        config.validate()
        self.config, self.data, self.max_seconds = config, data, max_seconds
        self.progress: Progress | None = None
        self.result: TrainResult | None = None
        self.error: str | None = None
        self.timed_out = False
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="training", daemon=True)

    def start(self) -> None:
        """Start training, or raise ServerBusyError if the server is already training its limit."""
        if not _slots.acquire(blocking=False):
            raise ServerBusyError(
                f"The server is already training {MAX_CONCURRENT} networks, its limit. Try again in a minute."
            )
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _should_stop(self) -> bool:
        _foreground.wait_until_idle(MAX_PAUSE)  # between steps: let visitors' pages go first
        if time.monotonic() - self._started > self.max_seconds:
            self.timed_out = True
        return self._stop.is_set() or self.timed_out

    def _run(self) -> None:
        try:
            self.result = train(self.config, self.data, on_progress=self._record, should_stop=self._should_stop)
        except Exception:  # a failed run must not take the server down; the page shows a message
            log.exception("training failed")
            self.error = "Training failed unexpectedly. Try a smaller configuration."
        finally:
            _slots.release()

    def _record(self, progress: Progress) -> None:
        self.progress = progress
