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

from core.budget import estimate, pace
from core.data import Mnist
from core.distill import Distillation
from core.host import HOST, family, memory_mb
from core.models import model_bytes, model_from_bytes, trace_every_model
from core.runtime import cap_malloc_arenas, limit_memory, out_of_memory, trim_memory
from core.training import TrainConfig, TrainResult, score, train

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", HOST.run_slots))  # long runs at once, server-wide
MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
NICENESS = int(os.environ.get("DIGITLAB_TRAIN_NICENESS", "10"))  # how far below the server a run's priority is
FINISH_SECONDS = 120.0  # after the time limit: for the test-set evaluation, then the run is killed
STOP_SECONDS = 2.0  # after Stop: a run that has not handed over its model by then is ended
ABANDONED_SECONDS = 30.0  # a run whose visitor has been gone this long is stopped (a reconnect within it is fine)
TEACHER_MB = 300.0  # a distillation's teacher and its activations, on top of the student's estimate
MEMORY_HEADROOM_MB = 1024.0  # above a run's estimate: its hard limit (VmData, which counts virtual memory)
ISOLATED_MB = 600.0  # what a short isolated run (an upload's check, a heavy view) reserves of the host's budget
ISOLATED_WAIT_SECONDS = 30.0  # how long a short isolated run waits for memory before it is refused
IDLE_SECONDS = float(os.environ.get("DIGITLAB_IDLE_SECONDS", "180"))  # no run this long: the forkserver is stopped
_processes = multiprocessing.get_context("forkserver")
# Imports TensorFlow once, in the server that forks the children, and the code they run.
_processes.set_forkserver_preload(["core.jobs", "core.model_upload", "core.continual", "core.compress"])
log = logging.getLogger(__name__)


_warm_until = 0.0  # monotonic time until which the forkserver is kept running even when idle
_idle_watch: threading.Thread | None = None


def prepare(*, keep_warm_seconds: float = 0.0) -> None:
    """Start the process that forks the runs (it imports TensorFlow, ~6 s) so the first run need not wait.

    It is stopped again after IDLE_SECONDS without a run, which returns its memory to the host; `keep_warm_seconds`
    keeps it (a talk's chapters must answer within a second).
    """
    global _warm_until, _idle_watch
    _warm_until = max(_warm_until, time.monotonic() + keep_warm_seconds)
    memory.last_used = max(memory.last_used, time.monotonic())
    with _starting:
        multiprocessing.forkserver.ensure_running()
        if _idle_watch is None:
            _idle_watch = threading.Thread(target=_stop_when_idle, name="digitlab-idle", daemon=True)
            _idle_watch.start()


def running() -> int:
    """Long runs going on the server now."""
    return _line.running()


def idle() -> bool:
    """No run going or waiting, none for IDLE_SECONDS, and nobody asked to keep warm."""
    now = time.monotonic()
    return not memory.busy() and not _line.busy() and now - memory.last_used > IDLE_SECONDS and now > _warm_until


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
        """`memory_mb` is what the run is expected to use: it is reserved from the host's budget while the run goes,
        and the run's hard limit is that plus MEMORY_HEADROOM_MB. `owner` names the visitor (one run of theirs may
        wait in line); `owner_present` says whether they are still there: a gone visitor's run is stopped, or leaves
        the line. `expected_seconds` feeds the line's estimate of when the runs behind it start."""
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
        """Start the run now if a slot and the memory are free, else join the line (ServerBusyError if this visitor
        is in it already, or if the run could never fit this host's memory)."""
        refusal = memory.never_fits(self.memory_mb)
        if refusal:
            raise ServerBusyError(refusal)
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
    def waits_for_memory(self) -> bool:
        """Whether this run is first in line with a slot free, waiting for the host's memory."""
        return _line.waits_for_memory(self)

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
                                 memory_mb=self.memory_mb + MEMORY_HEADROOM_MB, folder=folder)  # fmt: skip
                send.close()  # the child holds the only sending end: its exit reads as end-of-file here
                self.pid = process.pid
                memory.started(self, process.pid)
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
            memory.release(self)
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
        memory_mb = self.cost.memory_mb + (TEACHER_MB if distillation else 0.0)
        expected = min(self.cost.seconds * pace(running() + 1, HOST.cpus), max_seconds)
        super().__init__(_train_task, (config, data, distillation), memory_mb=memory_mb, max_seconds=max_seconds,
                         expected_seconds=expected, owner=owner, owner_present=owner_present)  # fmt: skip

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

    def retry(self) -> None:
        """Memory was freed (a short isolated run ended): start what now fits."""
        with self._lock:
            self._drop_gone()
            self._start_next()

    def waits_for_memory(self, job: Job) -> bool:
        """Whether a run first in line waits for memory rather than for a slot."""
        with self._lock:
            order = self._order()
            return bool(order) and order[0] is job and len(self._running) < self.slots

    def behind_own_run(self, job: Job) -> bool:
        """Whether a waiting run waits for its own visitor's other run to end."""
        with self._lock:
            return job in self._waiting and self._busy(job.owner)

    def position(self, job: Job) -> int | None:
        with self._lock:
            self._drop_gone()
            self._start_next()  # memory may have been freed since (the server's own use falls too)
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

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def busy(self) -> bool:
        """Any run going or waiting (a gone visitor's waiting run no longer counts)."""
        with self._lock:
            self._drop_gone()
            return bool(self._running or self._waiting)

    def _busy(self, owner: str | None) -> bool:
        return owner is not None and any(run.owner == owner for run in self._running)

    def _order(self) -> list[Job]:
        """The waiting runs in the order they will start: visitors' first runs, then second ones, each by arrival."""
        return sorted(self._waiting, key=lambda job: self._busy(job.owner))  # sorted() is stable

    def _start_next(self) -> None:
        while len(self._running) < self.slots:
            following = next((job for job in self._waiting if not self._busy(job.owner)), None)
            if following is None or not memory.reserve(following, following.memory_mb):
                return  # the first in line waits for memory: nobody overtakes it
            self._waiting.remove(following)
            self._running.append(following)
            following._begin()

    def _drop_gone(self) -> None:
        for job in [job for job in self._waiting if job.owner_present is not None and not job.owner_present()]:
            self._waiting.remove(job)
            job.waiting, job.abandoned = False, True
            job.error = "The run left the line because its visitor had gone."


class Memory:
    """The host's memory budget for the server's whole process tree, and what running children reserved of it.

    A child reserves what it is expected to use (a training's estimate, ...) before it starts; it may start only
    if the tree as measured now (the server and the process runs fork from, the children left out) plus every
    reservation fits the budget. Reservations, not the children's measured memory: a run grows after it starts.
    """

    def __init__(self, budget_mb: float) -> None:
        self.budget_mb = budget_mb
        self._reserved: dict[object, tuple[float, int | None]] = {}  # holder -> (MB, child pid once started)
        self._lock = threading.Lock()
        self.last_used = time.monotonic()  # when a child last ended or started

    def base_mb(self) -> float:
        """PSS of the server's process tree less the reserving children: the server and the forkserver."""
        with self._lock:
            children = {pid for _, pid in self._reserved.values() if pid is not None}
        return memory_mb([pid for pid in family(os.getpid()) if pid not in children])

    def in_use_mb(self) -> float:
        """The base and every reservation: what admission counts."""
        with self._lock:
            reserved = sum(mb for mb, _ in self._reserved.values())
        return self.base_mb() + reserved

    def reserve(self, holder: object, megabytes: float) -> bool:
        """Reserve `megabytes` for `holder` if they fit beside the base and the other reservations."""
        base = self.base_mb()
        with self._lock:
            if base + sum(mb for mb, _ in self._reserved.values()) + megabytes > self.budget_mb:
                return False
            self._reserved[holder] = (megabytes, None)
            self.last_used = time.monotonic()
            return True

    def started(self, holder: object, pid: int) -> None:
        with self._lock:
            if holder in self._reserved:
                self._reserved[holder] = (self._reserved[holder][0], pid)

    def release(self, holder: object) -> None:
        with self._lock:
            self._reserved.pop(holder, None)
            self.last_used = time.monotonic()

    def busy(self) -> bool:
        with self._lock:
            return bool(self._reserved)

    def never_fits(self, megabytes: float) -> str | None:
        """A sentence if `megabytes` could not fit even with no other run going; None if it could."""
        with self._lock:
            reserved = sum(mb for mb, _ in self._reserved.values())
        room = self.budget_mb - (self.in_use_mb() - reserved)
        if megabytes <= room:
            return None
        return (f"This run needs about {megabytes / 1024:.1f} GB of memory; this server "
                f"({HOST.memory_mb / 1024:.1f} GB) can give a run at most {max(room, 0) / 1024:.1f} GB. "
                "Choose a smaller one.")  # fmt: skip


memory = Memory(HOST.budget_mb)
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
    holder = object()
    deadline = time.monotonic() + ISOLATED_WAIT_SECONDS
    while not memory.reserve(holder, ISOLATED_MB):
        if time.monotonic() > deadline:
            raise IsolatedRunError("the server's memory is taken by other visitors' runs; try again in a minute")
        time.sleep(0.5)
    receive, send = _processes.Pipe(duplex=False)
    try:
        with tempfile.TemporaryDirectory(prefix="digitlab-check-") as folder:
            process = _start(_call_in_child, (function, args, send), memory_mb=memory_mb, folder=folder)
            memory.started(holder, process.pid)
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
        memory.release(holder)
        _line.retry()
    if kind == "refused":
        raise ValueError(value)
    if kind == "memory":
        raise IsolatedRunError(f"it needs more than the {memory_mb:,.0f} MB of memory allowed")
    if kind == "failed":
        raise IsolatedRunError(value)
    return value


def _start(target: Callable, args: tuple, *, memory_mb: float, folder: str):
    """Start target(*args) in a child process held to `memory_mb` above its start, working in `folder`."""
    prepare()  # the forkserver may have been stopped while idle
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
    trace_every_model()  # this process is short-lived: graphs traced here go with it
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
