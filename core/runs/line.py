"""The server's runs: a cap at once, a fair line behind it, and the host's memory budget every run must fit."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from core.i18n import Text
from core.runs.host import HOST, family, memory_mb

MAX_CONCURRENT = int(os.environ.get("DIGITLAB_MAX_TRAININGS", HOST.run_slots))  # long runs at once, server-wide


def running() -> int:
    """Long runs going on the server now (heavy views not counted)."""
    return LINE.running()


class ServerBusyError(RuntimeError):
    """A visitor may not queue another run; the message says why in plain words."""


class Run(Protocol):
    """What the line needs of a run (core.runs.job.Job is one)."""

    what: str  # the word for it: "training", "fine-tune", ...
    owner: str | None  # the visitor (session) it belongs to
    owner_present: Callable[[], bool] | None
    address: str | None  # the visitor's client address, when known: one address holds a fair share of places
    priority: bool  # the presenter's: it goes first
    short: bool  # a page's heavy view (seconds): its own slots, so it never waits behind long trainings
    memory_mb: float  # reserved from the budget while it goes
    expected_seconds: float
    began: float | None
    waiting: bool
    abandoned: bool
    error: str | None

    def _begin(self) -> None: ...

    def remaining(self) -> float: ...

    def stop(self) -> None: ...


SHORT_SLOTS = 1  # heavy views (the data engine, a fine-tune, a live result) at once, beside the long runs
ADDRESS_PLACES = 16  # runs one client address may have going or waiting at once (a hall behind one router)
MAX_WAITING = 64  # runs waiting at once, from everyone: a session costs nothing, a place in line some memory
OTHER_MEMORY_SECONDS = 20.0  # how soon memory held outside the line (an upload's check) is expected back


class Line:
    """The server's runs: up to `slots` long ones and `short_slots` heavy views at once; past that, a line.

    The line's order: the presenter's runs first, then visitors' first runs before their second ones (each visitor
    runs one at a time), then one place per client address in turn, so an address that parks many runs (sessions
    cost nothing) starts one of them for every run of each other address: its fair share; between addresses with
    as many turns, the one served longest ago; then arrival. Nobody
    overtakes a run that waits for memory. A run whose visitor has gone leaves the line when the line is next
    looked at, so nobody waits behind them.
    """

    def __init__(
        self,
        slots: int,
        short_slots: int = SHORT_SLOTS,
        *,
        address_places: int = ADDRESS_PLACES,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.slots, self.short_slots = slots, short_slots
        self.address_places, self.max_waiting = address_places, max_waiting
        self._running: list[Run] = []
        self._waiting: list[Run] = []
        self._served: dict[str, float] = {}  # address -> when a run of it last started: ties go to the longest unserved
        self._lock = threading.RLock()

    def join(self, job: Run) -> None:
        with self._lock:
            self._drop_gone()
            if job.owner is not None and any(other.owner == job.owner for other in self._waiting):
                raise ServerBusyError(Text("You already have a run waiting in line: it starts when its turn comes."))
            if len(self._waiting) >= self.max_waiting and not getattr(job, "priority", False):
                raise ServerBusyError(Text("The server's line is full: try again in a few minutes."))
            address = getattr(job, "address", None)
            if address is not None and not getattr(job, "priority", False):
                held = sum(getattr(run, "address", None) == address for run in self._running + self._waiting)
                if held >= self.address_places:
                    raise ServerBusyError(
                        Text(
                            "Your network already has {held} runs going or waiting on this server: this one "
                            "can join the "
                            "line when one of them ends.",
                            held=held,
                        )
                    )
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
        """A run ended: its slot goes to the first in line that may start."""
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
        """Whether a waiting run has a slot free and waits only for memory."""
        with self._lock:
            return job in self._waiting and self._slot_free(job) and not self._busy(job.owner)

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
        """Seconds until `job` should start: the runs going end one by one (each as its progress foretells),
        the runs ahead of it start as slots and memory allow, then it does. None if it is not waiting."""
        with self._lock:
            self._drop_gone()
            order = self._order()
            if job not in order:
                return None
            running = list(self._running)
        reserved = MEMORY.reserved_mb()
        room_mb = MEMORY.budget_mb - (MEMORY.in_use_mb() - reserved)  # the budget less the server's own use
        # (start, end, MB, short, owner) of each run going, then of each run ahead as it is placed
        plan = [(0.0, run.remaining(), run.memory_mb, _is_short(run), run.owner) for run in running]
        outside = reserved - sum(run.memory_mb for run in running)
        if outside > 0:  # held by short checks outside the line (an upload's): back soon
            plan.append((0.0, OTHER_MEMORY_SECONDS, outside, None, None))
        for ahead in order[: order.index(job) + 1]:
            short, slots = _is_short(ahead), self.short_slots if _is_short(ahead) else self.slots
            start = None
            for moment in sorted({0.0, *(entry[1] for entry in plan)}):
                going = [entry for entry in plan if entry[0] <= moment < entry[1]]
                if (
                    sum(entry[3] is short for entry in going) < slots
                    and room_mb - sum(entry[2] for entry in going) >= ahead.memory_mb
                    and not any(ahead.owner is not None and entry[4] == ahead.owner for entry in going)
                ):
                    start = moment
                    break
            if start is None:
                return None  # it could never start: nothing going would make room
            plan.append((start, start + ahead.expected_seconds, ahead.memory_mb, short, ahead.owner))
        return start

    def running(self) -> int:
        with self._lock:
            return sum(not _is_short(run) for run in self._running)

    def busy(self) -> bool:
        """Any run going or waiting (a gone visitor's waiting run no longer counts)."""
        with self._lock:
            self._drop_gone()
            return bool(self._running or self._waiting)

    def snapshot(self) -> tuple[list[Run], list[Run]]:
        """(the runs going, the runs waiting in the order they will start): for the presenter's view."""
        with self._lock:
            self._drop_gone()
            return list(self._running), self._order()

    def _busy(self, owner: str | None) -> bool:
        return owner is not None and any(run.owner == owner for run in self._running)

    def _slot_free(self, job: Run) -> bool:
        short = _is_short(job)
        return sum(_is_short(run) is short for run in self._running) < (self.short_slots if short else self.slots)

    def _order(self) -> list[Run]:
        """The waiting runs in the order they will start (see the class)."""
        turns: dict[str | None, int] = {}
        for run in self._running:
            address = getattr(run, "address", None)
            turns[address] = turns.get(address, 0) + 1
        keys = {}
        for arrival, run in enumerate(self._waiting):
            address = getattr(run, "address", None)
            turn = turns.get(address, 0) if address is not None else 0
            turns[address] = turn + 1
            served = self._served.get(address, -math.inf) if address is not None else -math.inf
            keys[id(run)] = (not getattr(run, "priority", False), self._busy(run.owner), turn, served, arrival)
        return sorted(self._waiting, key=lambda run: keys[id(run)])

    def _start_next(self) -> None:
        for following in self._order():
            if not self._slot_free(following) or self._busy(following.owner):
                continue
            if not MEMORY.reserve(following, following.memory_mb):
                return  # the first that may start waits for memory: nobody overtakes it
            self._waiting.remove(following)
            self._running.append(following)
            address = getattr(following, "address", None)
            if address is not None:
                self._served[address] = time.monotonic()
                if len(self._served) > 4 * self.max_waiting:  # bounded: the longest unserved are forgotten first
                    del self._served[min(self._served, key=self._served.get)]
            following._begin()

    def _drop_gone(self) -> None:
        for job in [job for job in self._waiting if job.owner_present is not None and not job.owner_present()]:
            self._waiting.remove(job)
            job.waiting, job.abandoned = False, True
            job.error = Text("The run left the line because its visitor had gone.")


def _is_short(run: Run) -> bool:
    return bool(getattr(run, "short", False))


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

    def reserved_mb(self) -> float:
        with self._lock:
            return sum(mb for mb, _ in self._reserved.values())

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

    def never_fits(self, megabytes: float) -> Text | None:
        """A sentence if `megabytes` could not fit even with no other run going; None if it could."""
        with self._lock:
            reserved = sum(mb for mb, _ in self._reserved.values())
        room = self.budget_mb - (self.in_use_mb() - reserved)
        if megabytes <= room:
            return None
        return Text(
            "This run needs about {needs:.1f} GB of memory; this server ({host:.1f} GB) can give a run at most "
            "{most:.1f} GB. Choose a smaller one.",
            needs=megabytes / 1024,
            host=HOST.memory_mb / 1024,
            most=max(room, 0) / 1024,
        )


MEMORY = Memory(HOST.budget_mb)  # the server's one memory budget
LINE = Line(MAX_CONCURRENT)  # the server's one line
