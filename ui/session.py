"""The server's side of a visit: Keras kept between runs, no source watching, and whether a visitor is still
connected."""

from __future__ import annotations

import functools
import gc
import ipaddress
import logging
import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit import config
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner import get_script_run_ctx, script_runner

from core.runs.runtime import trim_memory

log = logging.getLogger("digitlab")
GONE_SECONDS = 60.0  # a visitor disconnected this long loses their models (a phone's locked screen comes back sooner)
SWEEP_SECONDS = 15.0  # how often the server looks for visitors who have gone


def _clean_problem_modules_but_keras() -> None:
    """Streamlit's cleanup after a script run, less `keras.backend.clear_session()`.

    The only other thing it cleans is matplotlib.pyplot's figures, and Digit Lab draws none.
    """


def keep_keras_session() -> bool:
    """Stop Streamlit clearing the Keras session after every script run of every visitor.

    Streamlit calls `keras.backend.clear_session()` when any run ends: a full `gc.collect()` of a
    TensorFlow-sized heap while holding the GIL, plus TensorFlow's kernel cache thrown away, and
    Keras' global state reset under a training running in another visitor's thread: with many visitors
    drawing, a large share of the server's time (docs/performance.md). Digit Lab keeps no per-run Keras state to
    clear: models live in caches and session state. False, and a
    warning, if this Streamlit no longer has the hook (then its cleanup runs as before).
    """
    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        log.warning("streamlit has no _clean_problem_modules any more; Keras may be cleared after every run")
        return False
    script_runner._clean_problem_modules = _clean_problem_modules_but_keras
    return True


_frozen = threading.Lock()


def freeze_what_is_loaded() -> bool:
    """Once for the server, after its first page run: what it has loaded by then leaves the garbage collector's
    view (`gc.freeze()`). True the one time it freezes.

    Python's oldest-generation collections walk every object that has lived long: TensorFlow's, Keras', plotly's and
    Streamlit's modules, the shipped model, MNIST, holding the GIL while a room's phones wait. Only what the first
    run leaves is frozen: modules, caches and that visitor's first page; no later visitor's model, which
    must stay collectable when they leave."""
    if not _frozen.acquire(blocking=False):
        return False
    gc.collect()  # garbage made so far is freed, not frozen
    gc.freeze()
    log.info("froze %d objects loaded by the first page run", gc.get_freeze_count())
    return True


def keep_file_watchers_off() -> bool:
    """Stop Streamlit watching the sources of a session that reconnects, as it already does not watch a new one.

    With `server.fileWatcherType = "none"` a new session gets no watcher, but one resumed after its connection
    dropped (a phone's screen locked, bad wifi) does. After each of its runs that follows an import anywhere on the
    server, the watcher walks the paths of every loaded module on the event loop that serves every visitor, so a
    room of resumed phones waits seconds (bench/resumed.py measures it). False, and a warning, if this Streamlit no
    longer has the method.
    """
    register = getattr(AppSession, "register_file_watchers", None)
    if register is None:
        log.warning("streamlit's AppSession has no register_file_watchers any more; resumed sessions may watch sources")
        return False
    if getattr(register, "digitlab_guarded", False):
        return True

    @functools.wraps(register)
    def register_file_watchers(session: AppSession) -> None:
        if config.get_option("server.fileWatcherType") != "none":
            register(session)

    register_file_watchers.digitlab_guarded = True
    AppSession.register_file_watchers = register_file_watchers
    return True


def once_a_session(name: str, make: Callable):
    """`make()`, made in this visitor's first run and kept for their next ones.

    For the pages of `st.navigation`: each `st.Page` resolves its file on the disk when made, a cost a following
    phone would pay in every run. A page object is one
    visitor's, never shared: the navigation marks on it which page may run."""
    key = f"digitlab_once_{name}"
    if key not in st.session_state:
        st.session_state[key] = make()
    return st.session_state[key]


def arrived() -> float:
    """When this visitor's session began (time.monotonic): app.py notes it on the session's first run."""
    return st.session_state.setdefault("arrived_at", time.monotonic())


def owner_present() -> Callable[[], bool] | None:
    """A check, callable from any thread, of whether this visitor's browser is still connected."""
    context = get_script_run_ctx()
    if context is None or not Runtime.exists():
        return None
    runtime, session = Runtime.instance(), context.session_id
    return lambda: runtime.is_active_session(session)


def client_address() -> str | None:
    """The visitor's client address; None when unknown: from this machine itself, or outside a connection.

    A connection from this machine is a local proxy's (Caddy, deploy/) or a local visitor's: then the address is
    the last one X-Forwarded-For names, the one the proxy saw, as an earlier one may be the client's own invention.
    Streamlit's server listens on IPv6 too, so loopback may read '::ffff:127.0.0.1', which neither it nor Uvicorn's
    proxy headers take for local. Another address is the connection's own: a header from there could be forged."""
    address = st.context.ip_address
    if address is not None and not isinstance(address, str):
        return None  # not a connection (a headless test)
    try:
        local = address is None or ipaddress.ip_address(address.removeprefix("::ffff:")).is_loopback
    except ValueError:  # not an IP address: a name the server was given
        return address
    if local:
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        return forwarded[:64] or None
    return address


def job_owner() -> dict:
    """The visitor a run belongs to, as Job's keywords: who they are, a check that they are still here, their
    client address if known (the line gives one address a fair share of places), and whether they present (their
    runs go first)."""
    context = get_script_run_ctx()
    return {
        "owner": context.session_id if context else None,
        "owner_present": owner_present(),
        "address": client_address(),
        "priority": bool(st.session_state.get("presenter_proven")),
    }


def moved_here() -> bool:
    """True on the first run of a session this server started for a browser that asked to resume another.

    A browser whose connection drops reconnects naming the session it had (the third WebSocket
    subprotocol, which Streamlit reads). If this server does not hold that session (the server the
    visitor was on stopped, and the proxy sent them here, or this server restarted), Streamlit starts
    a fresh one: nothing of the visit survived, and the visitor should be told so.
    """
    if st.session_state.get("arrived"):
        return False
    st.session_state.arrived = True
    context = get_script_run_ctx()
    protocols = [entry.strip() for entry in (st.context.headers.get("Sec-Websocket-Protocol") or "").split(",")]
    resumed = protocols[2] if len(protocols) >= 3 else ""
    st.session_state.moved = context is not None and resumed not in ("", context.session_id)
    return st.session_state.moved  # the Draw page also reads it once: the browser's canvas value is from before


@st.cache_resource(show_spinner=False)
def _holdings() -> dict:
    """Server-wide: session id -> [the heavy things it holds (lists to empty), when it was first seen gone]."""
    return {}


_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def release_when_gone(*heavy: list) -> None:
    """Let this visitor's heavy lists (their models, ...) be emptied once they have been gone GONE_SECONDS.

    Streamlit keeps a disconnected session's state for a while (two minutes, up to 128 sessions) so a visitor can
    come back; models are what makes that state heavy, so they go first. Many sessions opened, filled with models
    and left would otherwise hold the server's memory.
    """
    global _sweeper
    context = get_script_run_ctx()
    if context is None or not Runtime.exists():
        return
    _holdings()[context.session_id] = [heavy, None]
    with _sweeper_lock:
        if _sweeper is None:
            _sweeper = threading.Thread(
                target=_sweep, args=(_holdings(), Runtime.instance()), daemon=True, name="digitlab-sweeper"
            )
            _sweeper.start()


def _sweep(holdings: dict, runtime: Runtime) -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        now, emptied = time.monotonic(), 0
        for session, entry in list(holdings.items()):
            if runtime.is_active_session(session):
                entry[1] = None
                continue
            entry[1] = entry[1] or now
            if now - entry[1] >= GONE_SECONDS:
                for heavy in entry[0]:
                    emptied += len(heavy)
                    heavy.clear()
                runtime.uploaded_file_mgr.remove_session_files(session)  # files it uploaded, kept by Streamlit
                holdings.pop(session, None)
        if emptied:
            gc.collect()
            trim_memory()
            log.info("released %d models of visitors who have gone", emptied)


def forget_upload(file_id: str) -> None:
    """Let Streamlit drop an uploaded file's bytes once the page has read them (it keeps them for the session)."""
    context = get_script_run_ctx()
    if context is not None and Runtime.exists():
        Runtime.instance().uploaded_file_mgr.remove_file(context.session_id, file_id)
