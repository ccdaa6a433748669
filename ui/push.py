"""The server tells the following phones that the presenter moved: an idle phone costs no script run at all.

Without it, each phone asks every second (ui/follow.py's `_watch`, a fragment run of ~2 ms of the server's one
Python thread): 300 phones would take a core only to hear that nothing happened. Here the phones' sessions are
listed on their server, and one thread per server watches the stage (this process's, or the file several servers
share: a `stat` every POLL_SECONDS). After a move, once the presenter's page has run, it asks each following
session to rerun, as Streamlit does when a source file changes, at most WINDOW of them at a time: the server's
thread never queues a hall's page runs at once, so the presenter's next press and a drawing visitor come through.

It reaches into Streamlit's runtime (its event loop, a session's last client state). Where that is missing (another
Streamlit, a test's AppTest), `available()` is False and the phones poll as before.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime

from core.follow import Stage

log = logging.getLogger("digitlab")


class Push:
    """One per server: the sessions following the talk, and the thread that reruns them after a move."""

    POLL_SECONDS = 0.05  # how often the thread looks whether the stage moved (a lock and a dict, or a stat)
    WINDOW = 2  # sessions rerun at once: as fast as 3, and with 8 a drawing visitor waited 7 s (bench/followers.py)
    RUN_SECONDS = 2.0  # a session that has not finished its page this long after its rerun frees its place anyway
    COUNT_SECONDS = 1.0  # how often the stage is told how many phones listen here (the pre-talk check's count)
    SETTLE_SECONDS, FLUSH_SECONDS = 1.0, 0.05  # as ui/follow.py: the projector's page first, never for long
    MAX_SESSIONS = 5000  # listed; more still follow, by polling

    def __init__(self, stage: Stage, runtime: Runtime) -> None:
        self._stage, self._runtime = stage, runtime
        self._loop = runtime._get_async_objs().eventloop  # RuntimeError before the server runs
        self._lock = threading.Condition()
        self._sessions: dict[str, int] = {}  # session id -> the stage version its page last ran for
        self._running: dict[str, float] = {}  # session id -> when it was asked to rerun (time.monotonic)
        self.reruns = 0  # asked for since the server started (for tests and benches)
        self._thread = threading.Thread(target=self._watch, daemon=True, name="digitlab-push")
        self._thread.start()

    def listen(self, session: str, version: int) -> bool:
        """This session follows the talk, its page running for stage `version`; False if the list is full (then it
        polls)."""
        with self._lock:
            if session not in self._sessions and len(self._sessions) >= self.MAX_SESSIONS:
                return False
            self._sessions[session] = version
            return True

    def ran(self, session: str) -> None:
        """The session's page run has ended: its place in the window is free."""
        with self._lock:
            if self._running.pop(session, None) is not None:
                self._lock.notify_all()

    def leave(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
            self._running.pop(session, None)
            self._lock.notify_all()

    def _watch(self) -> None:
        followed, counted = self._stage.now()[0], 0.0
        while True:
            try:
                time.sleep(self.POLL_SECONDS)
                now = time.monotonic()
                if now - counted >= self.COUNT_SECONDS:
                    counted = now
                    self._stage.listening(self._forget_gone(), now)
                version, chapter = self._stage.now()
                if version != followed and chapter is not None:
                    followed = version
                    self._stage.wait_settled(self.SETTLE_SECONDS, self.FLUSH_SECONDS)
                    self._ring(version)
            except Exception:  # the thread serves the whole room: a fault is logged, never its end
                log.exception("the push to following phones failed; they follow at their next run")
                time.sleep(1.0)

    def _ring(self, version: int) -> None:
        """Rerun every listed session not yet on `version`, WINDOW at a time, in a random order."""
        with self._lock:
            behind = [session for session, on in self._sessions.items() if on != version]
        random.shuffle(behind)
        for session in behind:
            with self._lock:
                while len(self._running) >= self.WINDOW:
                    oldest = min(self._running.values())
                    if time.monotonic() - oldest >= self.RUN_SECONDS:
                        self._running = {s: at for s, at in self._running.items() if at != oldest}
                        continue
                    self._lock.wait(self.RUN_SECONDS - (time.monotonic() - oldest))
                if self._stage.now()[0] != version:
                    return  # moved again meanwhile: the next ring reruns them for the newer chapter
                if self._sessions.get(session, version) == version:
                    continue  # followed on its own meanwhile (its own run), or left
                self._running[session] = time.monotonic()
            self.reruns += 1
            self._loop.call_soon_threadsafe(self._rerun, session)

    def _rerun(self, session: str) -> None:
        """On the server's event loop: rerun the session's page as it last ran (not a fragment, no widget change)."""
        app_session = self._runtime.get_app_session(session)
        if app_session is None:  # gone: its place is free
            self.leave(session)
            return
        state = ClientState()
        state.CopyFrom(app_session._client_state)
        state.fragment_id, state.is_auto_rerun = "", False
        app_session.request_rerun(state)

    def _forget_gone(self) -> int:
        """Drop the sessions whose browser is not connected (a tab closed, a phone's screen locked: its reconnection
        runs its page, which lists it again); how many are left."""
        with self._lock:
            sessions = list(self._sessions)
        gone = [session for session in sessions if self._runtime.get_app_session(session) is None]
        with self._lock:
            for session in gone:
                self._sessions.pop(session, None)
                self._running.pop(session, None)
            return len(self._sessions)
