"""The presenter key's door: a constant-time check, a guesser slowed down session by session, and a signed token
that lets a proven presenter keep leading across a reload without the key ever leaving the server.

Nothing is refused per address or server-wide: the presenter shares the hall's address, and a refusal that others'
guesses can trigger would let anyone lock the speaker out. A session, though, is free to open, so the key itself
must be long enough that guessing it one wrong key at a time is hopeless (the server's own is 96 random bits).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from core.i18n import _

log = logging.getLogger("digitlab")

FIRST_WAIT_SECONDS = 1.0  # after a session's first wrong key; each further wrong key doubles its wait
LONGEST_WAIT_SECONDS = 600.0
STORM_KEYS = 30  # wrong keys server-wide within STORM_WINDOW_SECONDS that the log reports as a guessing storm
STORM_WINDOW_SECONDS = 60.0
TOKEN_SECONDS = 12 * 3600  # a presenter's token lasts a talk day
COOKIE = "digitlab_presenter"  # the browser keeps the token under this name


class KeyGuard:
    """Checks presenter keys; a session that typed wrong keys waits longer before each next check."""

    def __init__(self, key: str | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.key, self._clock = key, clock
        self._wrong: dict[str, tuple[int, float]] = {}  # session -> (wrong keys so far, when it may try again)
        self._recent: deque[float] = deque()  # times of wrong keys from everyone, for the storm report
        self._storm_reported = -math.inf
        self._lock = threading.Lock()

    def check(self, session: str, given: str) -> bool:
        """Whether `given` is the key; ValueError, without checking, while this session must still wait."""
        with self._lock:
            now = self._clock()
            count, allowed_at = self._wrong.get(session, (0, -math.inf))
            if now < allowed_at:
                raise ValueError(
                    _("Wrong key. Wait {seconds} s before trying again.").format(seconds=math.ceil(allowed_at - now))
                )
            if is_presenter(given, self.key):
                self._wrong.pop(session, None)
                return True
            count += 1
            self._wrong[session] = (count, now + min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (count - 1)))
            self._note_storm(now)
            return False

    def _note_storm(self, now: float) -> None:
        self._recent.append(now)
        while self._recent and now - self._recent[0] > STORM_WINDOW_SECONDS:
            self._recent.popleft()
        for session in [s for s, (_count, at) in self._wrong.items() if now - at > LONGEST_WAIT_SECONDS]:
            del self._wrong[session]  # bounded by the sessions guessing lately
        if len(self._recent) >= STORM_KEYS and now - self._storm_reported > STORM_WINDOW_SECONDS:
            self._storm_reported = now
            log.warning(
                "presenter key: %d wrong keys from %d sessions in the last %.0f s (a guessing storm; each session "
                "waits longer after each wrong key, nobody else is held up)",
                len(self._recent),
                len(self._wrong),
                STORM_WINDOW_SECONDS,
            )


def is_presenter(given: str | None, key: str | None) -> bool:
    """Whether `given` is the presenter key; never when no key is set. Constant time: no guessing by timing."""
    if not key or not given:
        return False
    return hmac.compare_digest(given.encode(), key.encode())


def _signature(key: str, expires: int) -> str:
    return hmac.new(key.encode(), f"digitlab-presenter:{expires}".encode(), hashlib.sha256).hexdigest()


def token(key: str, *, now: float | None = None) -> str:
    """A token proving its holder gave the key, valid for TOKEN_SECONDS: 'expiry.signature', not the key."""
    expires = int((time.time() if now is None else now) + TOKEN_SECONDS)
    return f"{expires}.{_signature(key, expires)}"


def token_valid(given: str | None, key: str | None, *, now: float | None = None) -> bool:
    """Whether `given` is an unexpired token this key signed."""
    if not key or not isinstance(given, str) or not given or len(given) > 100:
        return False
    expires, __, signature = given.partition(".")
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature.encode(), _signature(key, int(expires)).encode())
