"""Training in the background: one job per run, a server-wide cap on concurrent runs, a time limit."""

from __future__ import annotations

import logging
import os
import threading
import time

from core.data import Mnist
from core.training import Progress, TrainConfig, TrainResult, train

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", "2"))  # trainings running at once, server-wide
MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)  # a shared limit, holding nobody's data
log = logging.getLogger(__name__)


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
