"""One long run in its own process: started, followed, stopped, its result or what it kept."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable

from core.i18n import N_, Text
from core.runs import line
from core.runs.child import MEMORY_HEADROOM_MB, PROCESSES, end_child, start_child
from core.runs.line import ServerBusyError
from core.runs.runtime import out_of_memory

log = logging.getLogger(__name__)

MAX_SECONDS = float(os.environ.get("DIGITLAB_MAX_TRAIN_SECONDS", "600"))  # wall-clock limit of one run
FINISH_SECONDS = 120.0  # after the time limit: for the test-set evaluation, then the run is killed
STOP_SECONDS = 2.0  # after Stop: a run that has not handed over its model by then is ended
ABANDONED_SECONDS = 30.0  # a run whose visitor has been gone this long is stopped (a reconnect within it is fine)


class Job:
    """One long run (a training, a continual-learning run, ...) in its own child process; pages poll it.

    `task(*args, on_progress, should_stop, keep)` runs in the child: it reports progress, checks
    should_stop() between steps, may `keep(value)` something worth keeping if it is stopped before
    the end, and returns its result. Subclasses turn what comes back into what the page shows.
    """

    what = N_("run")  # the word the messages use, marked for the catalog
    short = False  # a heavy view of a page (seconds) rather than a long run: the line gives those their own slots

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
        address: str | None = None,
        priority: bool = False,
    ) -> None:
        """`memory_mb` is what the run is expected to use: it is reserved from the host's budget while the run goes,
        and the run's hard limit is that plus MEMORY_HEADROOM_MB. `owner` names the visitor (one run of theirs may
        wait in line); `owner_present` says whether they are still there: a gone visitor's run is stopped, or leaves
        the line. `address` is the visitor's client address if known (the line gives it a fair share of places),
        `priority` marks the presenter's runs (first in line). `expected_seconds` feeds the line's estimates."""
        self.task, self.args, self.memory_mb = task, args, memory_mb
        self.max_seconds, self.expected_seconds = max_seconds, expected_seconds
        self.owner, self.owner_present = owner, owner_present
        self.address, self.priority = address, priority
        self.waiting = False  # in line for a free slot
        self.began: float | None = None  # monotonic time it left the line and started
        self.progress = None  # the latest report
        self.result = None
        self.error: str | None = None
        self.timed_out = False
        self.abandoned = False  # stopped because its visitor left
        self.pid: int | None = None  # of the child process, once it has started
        self._stop = PROCESSES.Event()
        self._stop_requested: float | None = None  # monotonic time of the first stop()
        self.ended: float | None = None  # monotonic time the child process ended
        self._thread = threading.Thread(target=self._run, name=self.what, daemon=True)

    def start(self) -> None:
        """Start the run now if a slot and the memory are free, else join the line (ServerBusyError if this visitor
        is in it already, or if the run could never fit this host's memory)."""
        refusal = line.MEMORY.never_fits(self.memory_mb)
        if refusal:
            raise ServerBusyError(refusal)
        line.LINE.join(self)

    def _begin(self) -> None:
        """Leave the line (or skip it) and start: the line calls this when a slot is this run's."""
        self.waiting, self.began = False, time.monotonic()
        self._thread.start()

    def stop(self, why: Text | None = None) -> None:
        """Stop at the next step and keep what there is (the run ends within STOP_SECONDS), or leave the line
        (`why` says why)."""
        if line.LINE.leave(self):
            self.error = why or Text("You left the line before the run started.")
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
        return line.LINE.position(self)

    @property
    def waits_for_memory(self) -> bool:
        """Whether this run is first in line with a slot free, waiting for the host's memory."""
        return line.LINE.waits_for_memory(self)

    @property
    def behind_own_run(self) -> bool:
        """Whether this run waits for its visitor's other run to end (one run at a time each)."""
        return line.LINE.behind_own_run(self)

    @property
    def starts_in(self) -> float | None:
        """Seconds until this run should start, estimated from the expected length of the runs ahead of it."""
        return line.LINE.starts_in(self)

    def remaining(self) -> float:
        """Seconds until it should end: from its progress once it has made some, else from its expected length (a
        run past that is taken to need a tenth of it more, not to be about to end)."""
        if self.began is None:
            return self.expected_seconds
        elapsed = time.monotonic() - self.began
        done = self.status()[0] if self.progress is not None else 0.0
        if 0.05 <= done < 1.0:
            return elapsed * (1 - done) / done
        return max(self.expected_seconds - elapsed, 0.1 * self.expected_seconds)

    def status(self) -> tuple[float, Text]:
        """(share done, what is happening) for a progress bar; kinds of run say more."""
        if self.progress is None:
            return 0.0, Text("Starting the {what}…", what=Text(self.what))
        return 0.0, Text("The {what} is going…", what=Text(self.what))

    def _kept(self, value):
        """What the child kept, as the parent holds it."""
        return value

    def _finish(self, result, kept):
        """The child's result, as the page shows it."""
        return result

    def _refusal(self, message: str) -> str:
        """What the visitor reads when the task raised ValueError: kinds of run whose tasks raise it for the visitor
        pass its message on; a run's own plain sentence otherwise."""
        return Text("The {what} stopped: it failed. Try a smaller configuration.", what=Text(self.what))

    def _after_stop(self, kept) -> None:
        """After Stop: keep what the child kept, or say why there is nothing."""
        if kept is None:
            self.error = Text("Stopped before the {what} had anything to keep.", what=Text(self.what))
        else:
            self.result = kept

    def _run(self) -> None:
        receive, send = PROCESSES.Pipe(duplex=False)
        kept = None
        try:
            with tempfile.TemporaryDirectory(prefix="digitlab-run-") as folder:
                process = start_child(
                    _task_in_child,
                    (self.task, self.args, send, self._stop, self.max_seconds),
                    memory_mb=self.memory_mb + MEMORY_HEADROOM_MB,
                    folder=folder,
                )
                send.close()  # the child holds the only sending end: its exit reads as end-of-file here
                self.pid = process.pid
                line.MEMORY.started(self, process.pid)
                try:
                    kept = self._follow(receive, deadline=time.monotonic() + self.max_seconds + FINISH_SECONDS)
                finally:
                    end_child(process, grace=0 if self._stop_requested else 0.5)
                    self.ended = time.monotonic()
        except Exception:  # a failed run must not take the server down; the page shows a message
            log.exception("%s failed", self.what)
            self.error = Text("The {what} failed unexpectedly. Try a smaller configuration.", what=Text(self.what))
        finally:
            receive.close()
            line.MEMORY.release(self)
            line.LINE.done(self)
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
                    self.error = Text(
                        "The {what} took far longer than this server allows and was ended.", what=Text(self.what)
                    )
                    return None
                continue
            try:
                kind, value = receive.recv()
            except EOFError:  # the child ended without a word: killed, or out of memory
                log.error("%s process ended without a result", self.what)
                self.error = Text(
                    "The {what} stopped unexpectedly, perhaps for lack of memory. Try a smaller configuration.",
                    what=Text(self.what),
                )
                return None
            if kind == "progress":
                self.progress = value
            elif kind == "kept":
                kept = self._kept(value)
            elif kind == "error":
                self.error = Text(
                    "The {what} stopped: {why}. Try a smaller configuration.", what=Text(self.what), why=value
                )
                return None
            elif kind == "refused":  # a ValueError
                self.error = self._refusal(value)
                return None
            else:  # "result"
                result, self.timed_out = value
                self.result = self._finish(result, kept)
                return None


def _task_in_child(task: Callable, args: tuple, send, stop, max_seconds: float) -> None:
    """The child process: run the task, sending its progress and what it keeps, then its result or an error."""
    started = time.monotonic()
    timed_out = False

    def should_stop() -> bool:
        nonlocal timed_out
        timed_out = timed_out or time.monotonic() - started > max_seconds
        return stop.is_set() or timed_out

    try:
        result = task(
            *args,
            on_progress=lambda progress: send.send(("progress", progress)),
            should_stop=should_stop,
            keep=lambda value: send.send(("kept", value)),
        )
        send.send(("result", (result, timed_out)))
    except ValueError as error:
        send.send(("refused", str(error)))
    except Exception as error:
        log.exception("run failed")
        why = Text("it ran out of the memory this server allows") if out_of_memory(error) else Text("it failed")
        send.send(("error", why))
    finally:
        send.close()


class Call(Job):
    """A page's heavy view (the data engine, a fine-tune, a result computed live): `function(*args)` as a short run.

    In line with the other runs, in its own process, its memory reserved from the host's budget while it goes, so
    however many visitors ask at once the server holds one at a time and serves the rest in turn.
    """

    what = N_("computation")
    short = True

    def __init__(self, function: Callable, args: tuple, **options) -> None:
        super().__init__(_call, (function, args), **options)

    def _refusal(self, message: str) -> str:
        return message  # a heavy view's function raises ValueError with a sentence for the visitor

    def _after_stop(self, kept) -> None:
        self.error = Text("Stopped before it finished.")


def _call(function: Callable, args: tuple, *, on_progress, should_stop, keep):
    return function(*args)
