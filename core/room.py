"""The room: drawings visitors chose to share with everyone at a talk, and what the network made of them.

The one place visitors see each other's work, so only what they opt into, one drawing at a time: the
28x28 picture the network saw, the digit they meant and what it read. Anonymous (an owner is an opaque
token, never shown), in this server's memory only, run_apart, and able to take back their own. A session costs a
client nothing, so the wall's intake is limited per client address (its "author": a burst, then one a second) as
well as per session and from everyone together. A presenter with the key may hide any drawing, clear one author's
or all, and pause sharing.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.i18n import Text
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES

CAPACITY = 500  # drawings kept; the oldest goes first
SHARE_EVERY_SECONDS = 3.0  # one share per visitor this often, at most
ROOM_SHARES_PER_SECOND = 5.0  # the wall's intake from everyone together (a hall of 20 phones every 5 s is 4)
ROOM_BURST = 20  # shares the wall takes at once before its rate applies
AUTHOR_SHARES_PER_SECOND = 1.0  # one client address's intake, however many sessions it opens
AUTHOR_BURST = 20  # what one address shares at once (a row of phones behind one hall's router) before that rate
HARDEST_MIN_DRAWINGS = 3  # a digit is ranked among the hardest once the room has drawn it this often


@dataclass(frozen=True)
class Share:
    number: int  # 1, 2, ... in the order the room received them
    owner: str  # an opaque token of the visitor who shared it: never shown
    author: str  # an opaque token of the client address it came from: never shown
    image: np.ndarray  # (28, 28) uint8: what the network saw
    meant: int  # the digit the visitor says they drew
    read: int  # the digit the network read
    confidence: float  # its probability, as the Draw page showed it
    at: float  # the room clock's time of sharing

    @property
    def right(self) -> bool:
        return self.meant == self.read


@dataclass(frozen=True)
class Summary:
    count: int
    accuracy: float | None  # share of the room's drawings read as meant; None before any
    confusion: np.ndarray  # (10, 10) counts: meant (rows) x read (columns)
    hardest: list[tuple[int, float, int]]  # (digit, accuracy, drawings), worst first, digits drawn enough


class Bucket:
    """A token bucket: `burst` at once, then `rate` a second."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.filled = rate, burst, float(burst), now

    def level(self, now: float) -> float:
        return min(self.burst, self.tokens + (now - self.filled) * self.rate)

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        self.tokens, self.filled = self.level(now), now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self, now: float) -> float:
        """Seconds until a token is there."""
        return max(0.0, (1 - self.level(now)) / self.rate) if self.rate > 0 else math.inf


class Room:
    """One server's shared wall. Safe to call from every visitor's thread."""

    def __init__(
        self,
        *,
        capacity: int = CAPACITY,
        every: float = SHARE_EVERY_SECONDS,
        rate: float = ROOM_SHARES_PER_SECOND,
        burst: int = ROOM_BURST,
        author_rate: float = AUTHOR_SHARES_PER_SECOND,
        author_burst: int = AUTHOR_BURST,
        clock: Callable = time.monotonic,
    ) -> None:
        """`every`: seconds between one session's shares; `author_rate` and `author_burst`: one client address's
        intake; `rate` and `burst`: the wall's intake from everyone together. The excess is refused with a message.
        """
        self._shares: deque[Share] = deque(maxlen=capacity)
        self._every, self._clock = every, clock
        self._wall = Bucket(rate, burst, clock())
        self._author_rate, self._author_burst = author_rate, author_burst
        self._authors: dict[str, Bucket] = {}  # author -> their bucket, while it is not full
        self._numbers = itertools.count(1)
        self._last_share: dict[str, float] = {}  # owner -> time of their last share
        self._lock = threading.Lock()
        self.paused = False  # the presenter stopped the wall taking drawings
        self.version = 0  # changes whenever the wall does: a page can skip redrawing an unchanged wall

    def share(
        self, owner: str, image: np.ndarray, *, meant: int, read: int, confidence: float, author: str = ""
    ) -> Share:
        """Put a drawing on the wall; ValueError (saying how long to wait) if this session, its client address
        (`author`) or the room as a whole shared too much lately, or the presenter paused sharing."""
        image = np.asarray(image)
        if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                Text(
                    "a shared drawing is {IMAGE_SIZE}x{IMAGE_SIZE2}; got {shape}",
                    IMAGE_SIZE=IMAGE_SIZE,
                    IMAGE_SIZE2=IMAGE_SIZE,
                    shape=image.shape,
                )
            )
        if not (0 <= meant < NUM_CLASSES and 0 <= read < NUM_CLASSES):
            raise ValueError(Text("a digit is 0 to 9"))
        pixels = np.clip(np.round(image * 255 if image.dtype.kind == "f" else image), 0, 255).astype(np.uint8)
        with self._lock:
            if self.paused:
                raise ValueError(Text("The presenter has paused sharing for now."))
            now = self._clock()
            wait = self._last_share.get(owner, -np.inf) + self._every - now
            if wait > 0:
                raise ValueError(
                    Text(
                        "One drawing every {every:g} seconds: wait {wait:.0f} s more.",
                        every=self._every,
                        wait=np.ceil(wait),
                    )
                )
            bucket = self._authors.get(author) or Bucket(self._author_rate, self._author_burst, now)
            if bucket.level(now) < 1:
                raise ValueError(
                    Text(
                        "Your network has shared many drawings lately: wait {max} s.",
                        max=max(1, math.ceil(bucket.wait(now))),
                    )
                )
            if not self._wall.take(now):
                raise ValueError(Text("The wall is taking many drawings right now: try again in a moment."))
            bucket.take(now)
            self._authors[author] = bucket
            for full in [a for a, b in self._authors.items() if b.level(now) >= b.burst]:
                del self._authors[full]  # keeps the map as small as the addresses sharing right now
            self._last_share[owner] = now
            for stale in [o for o, t in self._last_share.items() if now - t > self._every]:
                del self._last_share[stale]
            share = Share(next(self._numbers), owner, author, pixels, int(meant), int(read), float(confidence), now)
            self._shares.append(share)
            self.version += 1
            return share

    def authors(self) -> dict[str, int]:
        """Drawings on the wall by author, most first."""
        counts: dict[str, int] = {}
        for share in self.latest():
            counts[share.author] = counts.get(share.author, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def clear_author(self, author: str) -> int:
        """Remove every drawing from one author (the presenter); how many went."""
        before = len(self.latest())
        self._remove(lambda share: share.author == author)
        return before - len(self.latest())

    def latest(self, count: int | None = None) -> list[Share]:
        """The newest drawings first."""
        with self._lock:
            shares = list(self._shares)
        return shares[::-1][:count]

    def mine(self, owner: str) -> list[Share]:
        return [share for share in self.latest() if share.owner == owner]

    def take_back(self, owner: str, number: int) -> bool:
        """Remove a drawing its own visitor shared; False if it is not theirs or is gone."""
        return self._remove(lambda share: share.number == number and share.owner == owner)

    def hide(self, number: int) -> bool:
        """Remove any drawing (the presenter)."""
        return self._remove(lambda share: share.number == number)

    def clear(self) -> None:
        """Empty the wall (the presenter)."""
        with self._lock:
            self._shares.clear()
            self.version += 1

    def _remove(self, match: Callable[[Share], bool]) -> bool:
        with self._lock:
            kept = [share for share in self._shares if not match(share)]
            if len(kept) == len(self._shares):
                return False
            self._shares = deque(kept, maxlen=self._shares.maxlen)
            self.version += 1
            return True

    def summary(self) -> Summary:
        """The network's accuracy on the room's drawings, the room's confusion matrix and its hardest digits."""
        shares = self.latest()
        confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
        for share in shares:
            confusion[share.meant, share.read] += 1
        drawn = confusion.sum(axis=1)
        accuracy = float(np.trace(confusion) / len(shares)) if shares else None
        hardest = sorted(
            (
                (digit, float(confusion[digit, digit] / drawn[digit]), int(drawn[digit]))
                for digit in range(NUM_CLASSES)
                if drawn[digit] >= HARDEST_MIN_DRAWINGS
            ),
            key=lambda item: (item[1], -item[2]),
        )
        return Summary(len(shares), accuracy, confusion, hardest)
