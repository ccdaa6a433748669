"""Long runs in the background: each in its own low-priority process, a server-wide cap, a time limit.

Past the cap, runs wait in a fair line (first come, first served, one place per visitor) instead of being refused.

Every long run (a training, a continual-learning run, ...) is a Job. It works in a child process at a lower
CPU priority (nice), so a visitor drawing a digit is never queued behind it for the server's cores or for
Python's GIL; the run's memory goes
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
import tempfile
import threading
import time
from collections.abc import Callable

import keras

from core.budget import estimate
from core.data import Mnist
from core.distill import Distillation
from core.models import model_bytes, model_from_bytes
from core.runtime import cap_malloc_arenas, limit_memory, out_of_memory
from core.training import TrainConfig, TrainResult, score, train

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", "2"))  # trainings running at once, server-wide
MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
NICENESS = int(os.environ.get("DIGITLAB_TRAIN_NICENESS", "10"))  # how far below the server a run's priority is
FINISH_SECONDS = 120.0  # after the time limit: for the test-set evaluation, then the run is killed
STOP_SECONDS = 2.0  # after Stop: a run that has not handed over its model by then is ended
ABANDONED_SECONDS = 30.0  # a run whose visitor has been gone this long is stopped (a reconnect within it is fine)
TEACHER_MB = 300.0  # a distillation's teacher and its activations, on top of the student's estimate
MEMORY_HEADROOM_MB = 1024.0  # above a run's estimate: its hard limit (VmData, which counts virtual memory)
_processes = multiprocessing.get_context("forkserver")
# Imports TensorFlow once, in the server that forks the children, and the code they run.
_processes.set_forkserver_preload(["core.jobs", "core.model_upload", "core.continual", "core.compress"])
log = logging.getLogger(__name__)


def prepare() -> None:
    """Start the process that forks the runs (it imports TensorFlow, ~6 s) so the first run need not wait."""
    multiprocessing.forkserver.ensure_running()


class ServerBusyError(RuntimeError):
    """A visitor may not queue another run; the message says why in plain words."""


class IsolatedRunError(RuntimeError):
    """A child process ran out of its memory or time, or died; the message says which in plain words."""


class Job:
    """One long run (a training, a continual-learning run, ...) in its own child process; pages poll it.

    `task(*args, on_progress, should_stop, keep)` runs in the child: it reports progress, checks
    should_stop() between steps, may `keep(value)` something worth keeping if it is stopped before
    the end, and returns its result. Subclasses turn what comes back into what the page shows.
    """

    what = "run"  # the word the messages use

    def __init__(
        self,
        task: Callable,
        args: tuple,
        *,
        memory_mb: float,
        max_seconds: float = MAX_SECONDS,
        expected_seconds: float = 60.0,
        owner: str | None = None,
        owner_present: Callable[[], bool] | None = None,
    ) -> None:
        """`owner` names the visitor (one run of theirs may wait in line); `owner_present` says whether they are
        still there: a gone visitor's run is stopped, or leaves the line. `expected_seconds` feeds the line's
        estimate of when the runs behind it start."""
        self.task, self.args, self.memory_mb = task, args, memory_mb
        self.max_seconds, self.expected_seconds = max_seconds, expected_seconds
        self.owner, self.owner_present = owner, owner_present
        self.waiting = False  # in line for a free slot
        self.began: float | None = None  # monotonic time it left the line and started
        self.progress = None  # the latest report
        self.result = None
        self.error: str | None = None
        self.timed_out = False
        self.abandoned = False  # stopped because its visitor left
        self.pid: int | None = None  # of the child process, once it has started
        self._stop = _processes.Event()
        self._stop_requested: float | None = None  # monotonic time of the first stop()
        self.ended: float | None = None  # monotonic time the child process ended
        self._thread = threading.Thread(target=self._run, name=self.what, daemon=True)

    def start(self) -> None:
        """Start the run now if a slot is free, else join the line (ServerBusyError if this visitor is in it)."""
        _line.join(self)

    def _begin(self) -> None:
        """Leave the line (or skip it) and start: the line calls this when a slot is this run's."""
        self.waiting, self.began = False, time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        """Stop at the next step and keep what there is (the run ends within STOP_SECONDS), or leave the line."""
        if _line.leave(self):
            self.error = "You left the line before the run started."
            return
        if self._stop_requested is None:
            self._stop_requested = time.monotonic()
        self._stop.set()

    @property
    def running(self) -> bool:
        """Waiting in line or working: not yet ended."""
        return self.waiting or self._thread.is_alive()

    @property
    def position(self) -> int | None:
        """1 for the next run to start, 2 for the one after, ...; None if not in line."""
        return _line.position(self)

    @property
    def behind_own_run(self) -> bool:
        """Whether this run waits for its visitor's other run to end (one run at a time each)."""
        return _line.behind_own_run(self)

    @property
    def starts_in(self) -> float | None:
        """Seconds until this run should start, estimated from the expected length of the runs ahead of it."""
        return _line.starts_in(self)

    def _kept(self, value):
        """What the child kept, as the parent holds it."""
        return value

    def _finish(self, result, kept):
        """The child's result, as the page shows it."""
        return result

    def _after_stop(self, kept) -> None:
        """After Stop: keep what the child kept, or say why there is nothing."""
        if kept is None:
            self.error = f"Stopped before the {self.what} had anything to keep."
        else:
            self.result = kept

    def _run(self) -> None:
        receive, send = _processes.Pipe(duplex=False)
        kept = None
        try:
            with tempfile.TemporaryDirectory(prefix="digitlab-run-") as folder:
                process = _start(_task_in_child, (self.task, self.args, send, self._stop, self.max_seconds),
                                 memory_mb=self.memory_mb, folder=folder)  # fmt: skip
                send.close()  # the child holds the only sending end: its exit reads as end-of-file here
                self.pid = process.pid
                try:
                    kept = self._follow(receive, deadline=time.monotonic() + self.max_seconds + FINISH_SECONDS)
                finally:
                    _end(process, grace=0 if self._stop_requested else 0.5)
                    self.ended = time.monotonic()
        except Exception:  # a failed run must not take the server down; the page shows a message
            log.exception("%s failed", self.what)
            self.error = f"The {self.what} failed unexpectedly. Try a smaller configuration."
        finally:
            receive.close()
            _line.done(self)
        if self._stop_requested is not None and self.result is None and self.error is None:
            self._after_stop(kept)  # here, after the process and its slot are gone

    def _owner_gone(self, gone_since: float | None) -> float | None:
        """When the visitor was first seen gone (None while present); stops the run once they stay gone."""
        if self.owner_present is None or self.owner_present():
            return None
        gone_since = gone_since or time.monotonic()
        if time.monotonic() - gone_since > ABANDONED_SECONDS and not self.abandoned:
            log.info("stopping a %s whose visitor left", self.what)
            self.abandoned = True
            self.stop()
        return gone_since

    def _follow(self, receive, *, deadline: float):
        """Take the child's reports until its result, its error, its end, or the deadline.

        After Stop, returns as soon as the child keeps something (None if STOP_SECONDS pass first),
        without waiting for the rest of its work.
        """
        kept, gone_since = None, None
        while True:
            gone_since = self._owner_gone(gone_since)
            if self._stop_requested is not None and (kept or time.monotonic() - self._stop_requested > STOP_SECONDS):
                return kept
            if not receive.poll(timeout=0.1):
                if time.monotonic() > deadline:
                    self.error = f"The {self.what} took far longer than this server allows and was ended."
                    return None
                continue
            try:
                kind, value = receive.recv()
            except EOFError:  # the child ended without a word: killed, or out of memory
                log.error("%s process ended without a result", self.what)
                self.error = (f"The {self.what} stopped unexpectedly, perhaps for lack of memory. "
                              "Try a smaller configuration.")  # fmt: skip
                return None
            if kind == "progress":
                self.progress = value
            elif kind == "kept":
                kept = self._kept(value)
            elif kind == "error":
                self.error = f"The {self.what} stopped: {value}. Try a smaller configuration."
                return None
            else:  # "result"
                result, self.timed_out = value
                self.result = self._finish(result, kept)
                return None


class TrainingJob(Job):
    """One training run, perhaps distilled from a teacher; the page polls `progress` and `result` (a TrainResult)."""

    what = "training"

    def __init__(
        self,
        config: TrainConfig,
        data: Mnist,
        *,
        distillation: Distillation | None = None,
        max_seconds: float = MAX_SECONDS,
        owner: str | None = None,
        owner_present: Callable[[], bool] | None = None,
    ) -> None:
        config.validate()
        if distillation is not None:
            distillation.validate()
        self.cost = estimate(config)
        refusal = self.cost.over_budget()
        if refusal:
            raise ValueError(refusal)
        self.config, self.data = config, data
        memory_mb = self.cost.memory_mb + MEMORY_HEADROOM_MB + (TEACHER_MB if distillation else 0.0)
        super().__init__(_train_task, (config, data, distillation), memory_mb=memory_mb, max_seconds=max_seconds,
                         expected_seconds=self.cost.seconds, owner=owner, owner_present=owner_present)  # fmt: skip

    def _kept(self, value: bytes) -> keras.Model:
        return model_from_bytes(value)  # the model, as a .keras file, before the child scores it on the test set

    def _finish(self, result: TrainResult, kept: keras.Model) -> TrainResult:
        return dataclasses.replace(result, model=kept)

    def _after_stop(self, model: keras.Model | None) -> None:
        """Keep the model the child handed over, scored on the test set here, or say why there is none."""
        if model is None:
            began = self.progress is not None
            self.error = "Stopped " + ("in the middle of a step, so there is no model to keep." if began
                                       else "before training began.")  # fmt: skip
            return
        history = self.progress.history if self.progress else {"train": [], "validation": []}
        seconds = self.progress.seconds if self.progress else 0.0
        accuracy, robust = score(model, self.config, self.data)
        teacher = self.args[2].teacher_name if self.args[2] else None
        self.result = TrainResult(model, history, accuracy, seconds, stopped=True, robust_accuracy=robust,
                                  teacher=teacher)  # fmt: skip


class Line:
    """The server's runs: up to `slots` at once; past that, a line, first come, first served, one place per visitor.

    Each visitor has one run going at a time: a second waits in line until their first ends, behind other
    visitors' first runs, so nobody holds every slot while others wait. A run whose visitor has gone leaves the
    line when the line is next looked at, so nobody waits behind them.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._running: list[Job] = []
        self._waiting: list[Job] = []
        self._lock = threading.RLock()

    def join(self, job: Job) -> None:
        with self._lock:
            self._drop_gone()
            if job.owner is not None and any(other.owner == job.owner for other in self._waiting):
                raise ServerBusyError("You already have a run waiting in line: it starts when its turn comes.")
            job.waiting = True
            self._waiting.append(job)
            self._start_next()

    def leave(self, job: Job) -> bool:
        """Take a waiting run out of the line; False if it was not waiting."""
        with self._lock:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
            job.waiting = False
            return True

    def done(self, job: Job) -> None:
        """A run ended: its slot goes to the first in line whose visitor has no run going."""
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            self._drop_gone()
            self._start_next()

    def behind_own_run(self, job: Job) -> bool:
        """Whether a waiting run waits for its own visitor's other run to end."""
        with self._lock:
            return job in self._waiting and self._busy(job.owner)

    def position(self, job: Job) -> int | None:
        with self._lock:
            self._drop_gone()
            order = self._order()
            return order.index(job) + 1 if job in order else None

    def starts_in(self, job: Job) -> float | None:
        """When the slots free up, run by run: each running run ends at its expected length, then the line's."""
        with self._lock:
            self._drop_gone()
            order = self._order()
            if job not in order:
                return None
            now = time.monotonic()
            free = sorted(max(0.0, (run.began or now) + run.expected_seconds - now) for run in self._running)
            free += [0.0] * (self.slots - len(free))
            if not free:  # a server with no slots: nothing ever starts
                return None
            for ahead in order[: order.index(job)]:
                free[0] += ahead.expected_seconds
                free.sort()
            if self._busy(job.owner):  # and not before its visitor's own run ends
                own = next(run for run in self._running if run.owner == job.owner)
                free[0] = max(free[0], (own.began or now) + own.expected_seconds - now)
            return free[0]

    def _busy(self, owner: str | None) -> bool:
        return owner is not None and any(run.owner == owner for run in self._running)

    def _order(self) -> list[Job]:
        """The waiting runs in the order they will start: visitors' first runs, then second ones, each by arrival."""
        return sorted(self._waiting, key=lambda job: self._busy(job.owner))  # sorted() is stable

    def _start_next(self) -> None:
        while len(self._running) < self.slots:
            following = next((job for job in self._waiting if not self._busy(job.owner)), None)
            if following is None:
                return
            self._waiting.remove(following)
            self._running.append(following)
            following._begin()

    def _drop_gone(self) -> None:
        for job in [job for job in self._waiting if job.owner_present is not None and not job.owner_present()]:
            self._waiting.remove(job)
            job.waiting, job.abandoned = False, True
            job.error = "The run left the line because its visitor had gone."


_line = Line(MAX_CONCURRENT)


def _train_task(
    config: TrainConfig, data: Mnist, distillation: Distillation | None, *, on_progress, should_stop, keep
) -> TrainResult:
    """In the child: train, hand over the model as soon as it is fitted (Stop need not wait for the scoring)."""
    result = train(config, data, on_progress=on_progress, should_stop=should_stop,
                   on_fitted=lambda model: keep(model_bytes(model)), distillation=distillation)  # fmt: skip
    return dataclasses.replace(result, model=None)  # the model came with "kept"


def run_isolated(function: Callable, *args, memory_mb: float, seconds: float):
    """function(*args) in a short-lived child process: its return value.

    The child may use `memory_mb` more memory than it starts with and `seconds` of time, works in a
    temporary folder that is removed afterwards whatever happens, and runs at the trainings' lower
    priority. A ValueError the function raises is raised here with its message (meant for the
    visitor); running out of memory or time, or dying, raises IsolatedRunError.
    """
    receive, send = _processes.Pipe(duplex=False)
    try:
        with tempfile.TemporaryDirectory(prefix="digitlab-check-") as folder:
            process = _start(_call_in_child, (function, args, send), memory_mb=memory_mb, folder=folder)
            send.close()
            try:
                if not receive.poll(timeout=seconds):
                    raise IsolatedRunError(f"it took longer than the {seconds:g} seconds allowed")
                try:
                    kind, value = receive.recv()
                except EOFError:
                    raise IsolatedRunError("its check ended unexpectedly, perhaps for lack of memory") from None
            finally:
                _end(process)
    finally:
        receive.close()
    if kind == "refused":
        raise ValueError(value)
    if kind == "memory":
        raise IsolatedRunError(f"it needs more than the {memory_mb:,.0f} MB of memory allowed")
    if kind == "failed":
        raise IsolatedRunError(value)
    return value


def _start(target: Callable, args: tuple, *, memory_mb: float, folder: str):
    """Start target(*args) in a child process held to `memory_mb` above its start, working in `folder`."""
    process = _processes.Process(target=_child, args=(target, args, memory_mb, folder), daemon=True)
    with _app_script_not_rerun():
        process.start()
    return process


def _end(process, *, grace: float = 0.5) -> None:
    """Give a child `grace` seconds to exit on its own, then end it."""
    process.join(timeout=grace)
    if process.is_alive():
        process.kill()
        process.join()


def _child(target: Callable, args: tuple, memory_mb: float, folder: str) -> None:
    """In the child: lower priority, cap memory, keep temporary files in `folder`, then run the target."""
    os.nice(NICENESS)  # before TensorFlow starts its threads, which inherit it
    cap_malloc_arenas()  # as in the server: TensorFlow's threads would otherwise grow memory by ~0.5 GB
    os.environ["TMPDIR"] = tempfile.tempdir = folder  # Keras unpacks archives here; the parent removes it
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
            send.send(("failed", "it failed in a way Digit Lab did not expect"))
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


def _task_in_child(task: Callable, args: tuple, send, stop, max_seconds: float) -> None:
    """The child process: run the task, sending its progress and what it keeps, then its result or an error."""
    started = time.monotonic()
    timed_out = False

    def should_stop() -> bool:
        nonlocal timed_out
        timed_out = timed_out or time.monotonic() - started > max_seconds
        return stop.is_set() or timed_out

    try:
        result = task(*args, on_progress=lambda progress: send.send(("progress", progress)),
                      should_stop=should_stop, keep=lambda value: send.send(("kept", value)))  # fmt: skip
        send.send(("result", (result, timed_out)))
    except Exception as error:
        log.exception("run failed")
        send.send(("error", "it ran out of the memory this server allows" if out_of_memory(error) else "it failed"))
    finally:
        send.close()
