"""Where the presenter is, for every phone following the talk: on one server, or on several that share a file.

A Streamlit server is one Python process, and a large room is served by several behind a proxy (docs/deploy.md): each
phone is pinned to one of them, the presenter to one. Given a path, the stage keeps the presenter's
chapter in that file, which every server on the machine (or on a shared volume) reads, so the phones on the other
servers follow too; without one it lives in this process's memory.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.i18n import Text
from core.talk import BY_ID, Chapter

try:
    import fcntl  # a presenter's move is a read and a write: one server's at a time
except ImportError:  # Windows: a single server, or moves that never meet
    fcntl = None

NO_TALK = {"version": 0, "chapter": None, "settled": True, "settled_at": 0.0, "moved_at": 0.0, "by": ""}


class Stage:
    """Where the presenter is: the chapter the room's phones follow, and a version that changes with each move.

    One per server, shared by every session; only a keyed presenter moves it. Followers compare the version they
    last followed with the stage's, and after a move run their pages only once the presenter's has run
    (`settled`, `wait_settled`). With a `path`, the servers sharing it share the stage: a move on one is seen on
    all, and so is the end of the presenter's run.
    """

    FOLLOWER_SECONDS = 5.0  # a phone that has not looked this long has left
    MAX_FOLLOWERS = 5000  # phones counted; more are followed all the same, only not counted
    PHONES_PER_SERVER = 250  # on a new chapter within 6 s, one 2-core server: 150 took 3.0 s, 300 5.6–6.4 s (bench)
    STALE_SECONDS = 12 * 3600.0  # a shared stage left this long is a past talk's: a new server does not follow it
    POLL_SECONDS = 0.02  # how often a phone on another server looks whether the presenter's page has run
    COUNT_SECONDS = 1.0  # how often a server tells the others how many phones follow on it

    def __init__(self, path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self._path = Path(path) if path else None
        self._state = dict(NO_TALK)
        self._read: tuple[int, int, int] | None = None  # the file's (mtime, size, inode) when last read
        self._settled = threading.Event()  # clear from a move on this server until the presenter's page has run
        self._settled.set()
        self._seen: dict[str, float] = {}  # follower token -> when it last looked (time.monotonic)
        self._listening = 0  # phones this server reruns when the stage moves (ui/push.py): they never look
        self._counted = 0.0  # when this server last wrote its count of followers (time.monotonic)
        self._me = f"{os.getpid()}-{secrets.token_hex(4)}"  # this server's count file's name

    def go(self, chapter_id: str) -> int:
        """Move the room to a chapter (ValueError if there is none of that id); the new version."""
        if chapter_id not in BY_ID:
            raise ValueError(Text("no chapter called {chapter_id!r}", chapter_id=chapter_id[:20]))
        with self._lock, self._locked_file():
            state = self._load()
            if state["chapter"] != chapter_id or self._stale(state):
                now = time.time()
                state = {**state, "version": state["version"] + 1, "chapter": chapter_id, "moved_at": now}
                state.update(settled=False, settled_at=now, by=self._me)
                self._store(state)
                self._settled.clear()
            return state["version"]

    def settled(self, when: float) -> None:
        """The presenter's page has run (at `when`, time.time()): the phones may run theirs."""
        with self._lock, self._locked_file():
            state = self._load()
            if not state["settled"] or not self._settled.is_set():
                self._store({**state, "settled": True, "settled_at": when})
            self._settled.set()

    def wait_settled(self, timeout: float, margin: float) -> None:
        """Wait, without holding the GIL, until `margin` seconds after the presenter's page has run, at most `timeout`
        seconds in all (a presenter whose run never ends, a tab closed mid-run, holds no phone for longer).

        Only on the presenter's own server: a phone's run there would take the projector's page's turn on the one
        Python thread. Another server's phones go at once (bench/followers.py, two servers: p50 0.2 s sooner)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                state = self._load()
            if state["by"] != self._me:
                return
            left = deadline - time.monotonic()
            if state["settled"] or left <= 0:
                break
            if self._path is None:
                self._settled.wait(left)  # a move of this process: woken the moment the presenter's page has run
            else:
                time.sleep(min(self.POLL_SECONDS, left))
        time.sleep(max(0.0, min(state["settled_at"] + margin - time.time(), deadline - time.monotonic())))

    def now(self) -> tuple[int, Chapter | None]:
        """The version and the presenter's chapter (None before a talk, or after one long past)."""
        with self._lock:
            state = self._load()
        chapter = None if self._stale(state) else BY_ID.get(state["chapter"] or "")
        return state["version"], chapter

    def seen(self, token: str, when: float) -> None:
        """A polling follower looked at the stage (for the presenter's count of phones following)."""
        with self._lock:
            if token not in self._seen and len(self._seen) >= self.MAX_FOLLOWERS:
                self._forget(when)
            if token in self._seen or len(self._seen) < self.MAX_FOLLOWERS:
                self._seen[token] = when
            self._tell_others(when)

    def listening(self, count: int, when: float) -> None:
        """How many phones this server reruns when the stage moves, as of `when` (time.monotonic): they are counted
        without looking. Told every second or so by the server's push thread."""
        with self._lock:
            self._listening = max(0, min(count, self.MAX_FOLLOWERS))
            self._tell_others(when)

    def _tell_others(self, when: float) -> None:
        """Write this server's count of followers for the servers sharing the stage, at most every COUNT_SECONDS."""
        if self._path is not None and when - self._counted >= self.COUNT_SECONDS:
            self._counted = when
            self._forget(when)
            self._write(self._count_file(self._me), str(len(self._seen) + self._listening))

    def followers(self, now: float) -> int:
        """Phones that follow now, on this server and on the others sharing the stage."""
        return self.room(now)[0]

    def room(self, now: float) -> tuple[int, int]:
        """(phones that follow, servers they are on): this server's, listed or that looked within the last few
        seconds (`now`: time.monotonic), and each other server's sharing the stage that wrote its count lately."""
        with self._lock:
            self._forget(now)
            count, servers = len(self._seen) + self._listening, 1
        if self._path is not None:
            for other in self._path.parent.glob(f"{self._path.name}.followers.*"):
                if other == self._count_file(self._me):
                    continue
                try:
                    if time.time() - other.stat().st_mtime < self.FOLLOWER_SECONDS:
                        count += min(int(other.read_text()[:8]), self.MAX_FOLLOWERS)
                        servers += 1
                except (OSError, ValueError):  # a server's count half written or just gone: counted next time
                    continue
        return count, servers

    def _forget(self, now: float) -> None:
        for token in [token for token, when in self._seen.items() if now - when > self.FOLLOWER_SECONDS]:
            del self._seen[token]

    def _stale(self, state: dict) -> bool:
        return self._path is not None and time.time() - state["moved_at"] > self.STALE_SECONDS

    def _load(self) -> dict:
        """The stage's state (under self._lock): this process's, or the shared file's if it changed since read."""
        if self._path is None:
            return self._state
        try:
            status = self._path.stat()
            key = (status.st_mtime_ns, status.st_size, status.st_ino)
            if key != self._read:
                self._state, self._read = _valid(json.loads(self._path.read_text()[:1000])), key
        except (OSError, ValueError, TypeError, KeyError):  # no talk yet, or a file not ours: what was last read
            pass
        return self._state

    def _store(self, state: dict) -> None:
        self._state = state
        if self._path is not None:
            self._write(self._path, json.dumps(state))

    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Whole or not at all: readers never see half a file."""
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(text)
        os.replace(partial, path)

    def _count_file(self, server: str) -> Path:
        return self._path.with_name(f"{self._path.name}.followers.{server}")

    @contextmanager
    def _locked_file(self) -> Iterator[None]:
        """Across servers, one move at a time (a no-op without a path or without fcntl)."""
        if self._path is None or fcntl is None:
            yield
            return
        with open(self._path.with_name(f"{self._path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield


def _valid(state: dict) -> dict:
    """A shared stage's state as read, checked: numbers are numbers, the chapter one of ours (KeyError, ValueError
    or TypeError otherwise)."""
    chapter = state["chapter"]
    if chapter is not None and chapter not in BY_ID:
        raise ValueError(Text("no chapter called {chapter!r}", chapter=str(chapter)[:20]))
    return {
        "version": int(state["version"]),
        "chapter": chapter,
        "settled": bool(state["settled"]),
        "settled_at": float(state["settled_at"]),
        "moved_at": float(state["moved_at"]),
        "by": str(state.get("by", ""))[:40],  # the server that moved it (Stage._me)
    }
