"""The server's runs: a cap at once, a fair line behind it, and the host's memory budget every run must fit."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from core.runs.host import HOST, family, memory_mb

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", HOST.run_slots))  # long runs at once, server-wide


def running() -> int:
    """Long runs going on the server now."""
    return LINE.running()


class ServerBusyError(RuntimeError):
    """A visitor may not queue another run; the message says why in plain words."""


class Run(Protocol):
    """What the line needs of a run (core.runs.job.Job is one)."""

    owner: str | None  # the visitor it belongs to
    owner_present: Callable[[], bool] | None
    memory_mb: float  # reserved from the budget while it goes
    expected_seconds: float
    began: float | None
    waiting: bool
    abandoned: bool
    error: str | None

    def _begin(self) -> None: ...


class Line:
    """The server's runs: up to `slots` at once; past that, a line, first come, first served, one place per visitor.

    Each visitor has one run going at a time: a second waits in line until their first ends, behind other
    visitors' first runs, so nobody holds every slot while others wait. A run whose visitor has gone leaves the
    line when the line is next looked at, so nobody waits behind them.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._running: list[Run] = []
        self._waiting: list[Run] = []
        self._lock = threading.RLock()

    def join(self, job: Run) -> None:
        with self._lock:
            self._drop_gone()
            if job.owner is not None and any(other.owner == job.owner for other in self._waiting):
                raise ServerBusyError("You already have a run waiting in line: it starts when its turn comes.")
            job.waiting = True
            self._waiting.append(job)
            self._start_next()

    def leave(self, job: Run) -> bool:
        """Take a waiting run out of the line; False if it was not waiting."""
        with self._lock:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
            job.waiting = False
            return True

    def done(self, job: Run) -> None:
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

    def waits_for_memory(self, job: Run) -> bool:
        """Whether a run first in line waits for memory rather than for a slot."""
        with self._lock:
            order = self._order()
            return bool(order) and order[0] is job and len(self._running) < self.slots

    def behind_own_run(self, job: Run) -> bool:
        """Whether a waiting run waits for its own visitor's other run to end."""
        with self._lock:
            return job in self._waiting and self._busy(job.owner)

    def position(self, job: Run) -> int | None:
        with self._lock:
            self._drop_gone()
            self._start_next()  # memory may have been freed since (the server's own use falls too)
            order = self._order()
            return order.index(job) + 1 if job in order else None

    def starts_in(self, job: Run) -> float | None:
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

    def _order(self) -> list[Run]:
        """The waiting runs in the order they will start: visitors' first runs, then second ones, each by arrival."""
        return sorted(self._waiting, key=lambda job: self._busy(job.owner))  # sorted() is stable

    def _start_next(self) -> None:
        while len(self._running) < self.slots:
            following = next((job for job in self._waiting if not self._busy(job.owner)), None)
            if following is None or not MEMORY.reserve(following, following.memory_mb):
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
        return (
            f"This run needs about {megabytes / 1024:.1f} GB of memory; this server "
            f"({HOST.memory_mb / 1024:.1f} GB) can give a run at most {max(room, 0) / 1024:.1f} GB. "
            "Choose a smaller one."
        )


MEMORY = Memory(HOST.budget_mb)  # the server's one memory budget
LINE = Line(MAX_CONCURRENT)  # the server's one line
