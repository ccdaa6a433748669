"""The room: drawings visitors chose to share with everyone at a talk, and what the network made of them.

The one place visitors see each other's work, so only what they opt into, one drawing at a time: the
28x28 picture the network saw, the digit they meant and what it read. Anonymous (an owner is an opaque
token, never shown), in this server's memory only, bounded, and each visitor limited to one share every
few seconds and able to take back their own. A presenter with the key may hide any drawing or clear all.
"""

from __future__ import annotations

import hmac
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.pictures.data import IMAGE_SIZE, NUM_CLASSES

CAPACITY = 500  # drawings kept; the oldest goes first
SHARE_EVERY_SECONDS = 3.0  # one share per visitor this often, at most
ROOM_SHARES_PER_SECOND = 5.0  # the wall's intake from everyone together (a hall of 20 phones every 5 s is 4)
ROOM_BURST = 20  # shares the wall takes at once before its rate applies
HARDEST_MIN_DRAWINGS = 3  # a digit is ranked among the hardest once the room has drawn it this often
KEY_TRIES = 5  # wrong presenter keys a visitor may try per KEY_WINDOW_SECONDS
KEY_TRIES_SERVER = 30  # wrong presenter keys the whole server hears per KEY_WINDOW_SECONDS, from everyone
KEY_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Share:
    number: int  # 1, 2, ... in the order the room received them
    owner: str  # an opaque token of the visitor who shared it: never shown
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


class Room:
    """One server's shared wall. Safe to call from every visitor's thread."""

    def __init__(
        self,
        *,
        capacity: int = CAPACITY,
        every: float = SHARE_EVERY_SECONDS,
        rate: float = ROOM_SHARES_PER_SECOND,
        burst: int = ROOM_BURST,
        clock: Callable = time.monotonic,
    ) -> None:
        """`every`: seconds between one visitor's shares; `rate` and `burst`: the wall's intake from everyone.

        A new session costs a client nothing, so the per-visitor limit alone does not hold a wall: the intake
        from everyone together is limited too (a token bucket), and the excess refused with a message.
        """
        self._shares: deque[Share] = deque(maxlen=capacity)
        self._every, self._clock = every, clock
        self._rate, self._burst = rate, burst
        self._tokens, self._filled = float(burst), clock()
        self._numbers = itertools.count(1)
        self._last_share: dict[str, float] = {}  # owner -> time of their last share
        self._lock = threading.Lock()
        self.version = 0  # changes whenever the wall does: a page can skip redrawing an unchanged wall

    def share(self, owner: str, image: np.ndarray, *, meant: int, read: int, confidence: float) -> Share:
        """Put a drawing on the wall; ValueError (saying how long to wait) if this visitor shared too recently."""
        image = np.asarray(image)
        if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"a shared drawing is {IMAGE_SIZE}x{IMAGE_SIZE}; got {image.shape}")
        if not (0 <= meant < NUM_CLASSES and 0 <= read < NUM_CLASSES):
            raise ValueError("a digit is 0 to 9")
        pixels = np.clip(np.round(image * 255 if image.dtype.kind == "f" else image), 0, 255).astype(np.uint8)
        with self._lock:
            now = self._clock()
            wait = self._last_share.get(owner, -np.inf) + self._every - now
            if wait > 0:
                raise ValueError(f"One drawing every {self._every:g} seconds: wait {np.ceil(wait):.0f} s more.")
            self._tokens = min(self._burst, self._tokens + (now - self._filled) * self._rate)
            self._filled = now
            if self._tokens < 1:
                raise ValueError("The wall is taking many drawings right now: try again in a moment.")
            self._tokens -= 1
            self._last_share[owner] = now
            for stale in [o for o, t in self._last_share.items() if now - t > self._every]:
                del self._last_share[stale]  # keeps the map as small as the visitors sharing right now
            share = Share(next(self._numbers), owner, pixels, int(meant), int(read), float(confidence), now)
            self._shares.append(share)
            self.version += 1
            return share

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


class KeyGuard:
    """The presenter key's door: a constant-time check, and few wrong guesses per visitor and per server."""

    def __init__(
        self,
        key: str | None,
        *,
        tries: int = KEY_TRIES,
        server_tries: int = KEY_TRIES_SERVER,
        window: float = KEY_WINDOW_SECONDS,
        clock: Callable = time.monotonic,
    ) -> None:
        self.key, self._tries, self._server_tries, self._window, self._clock = key, tries, server_tries, window, clock
        self._wrong: deque[tuple[float, str]] = deque()  # (time, visitor) of recent wrong guesses
        self._lock = threading.Lock()

    def check(self, visitor: str, given: str) -> bool:
        """Whether `given` is the key; ValueError, without checking, once too many wrong guesses came lately."""
        with self._lock:
            now = self._clock()
            while self._wrong and now - self._wrong[0][0] > self._window:
                self._wrong.popleft()
            theirs = [at for at, who in self._wrong if who == visitor]
            if len(theirs) >= self._tries or len(self._wrong) >= self._server_tries:
                oldest = theirs[0] if len(theirs) >= self._tries else self._wrong[0][0]
                raise ValueError(f"Too many wrong keys: try again in {np.ceil(oldest + self._window - now):.0f} s.")
            if is_presenter(given, self.key):
                return True
            self._wrong.append((now, visitor))
            return False


def is_presenter(given: str | None, key: str | None) -> bool:
    """Whether `given` is the presenter key; never when no key is set. Constant time: no guessing by timing."""
    if not key or not given:
        return False
    return hmac.compare_digest(given.encode(), key.encode())
