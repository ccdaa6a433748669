"""The server's side of a visit (ui/session.py): what Digit Lab changes in Streamlit's handling of sessions."""

import gc

from streamlit import config
from streamlit.runtime.app_session import AppSession
from streamlit.testing.v1 import AppTest

import ui
from harness.browser import ROOT


def test_a_session_resumed_after_a_dropped_connection_watches_no_sources():
    # Streamlit resumes a reconnected session through register_file_watchers(), whatever fileWatcherType says: its
    # watcher then walks every module's path on the event loop (bench/resumed.py: 21 times slower reruns).
    assert ui.keep_file_watchers_off() and ui.keep_file_watchers_off()  # installed once, however often app.py asks
    resumed = AppSession.__new__(AppSession)  # a session's state as the resume finds it: no watcher yet
    resumed._local_sources_watcher = None
    watching = config.get_option("server.fileWatcherType")
    config.set_option("server.fileWatcherType", "none")  # .streamlit/config.toml's
    try:
        AppSession.register_file_watchers(resumed)
    finally:
        config.set_option("server.fileWatcherType", watching)
    assert resumed._local_sources_watcher is None


def test_the_first_page_run_freezes_what_the_server_has_loaded_and_only_once():
    # Python's oldest-generation collections walked TensorFlow's, Keras' and Streamlit's objects while holding the
    # GIL: 0.2-0.3 s each, several a minute with a room of phones. After the first run they are frozen out of them.
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    assert not app.exception
    frozen = gc.get_freeze_count()
    assert frozen > 100_000  # the libraries' objects at least
    app.run()
    assert not ui.freeze_what_is_loaded()  # once: what later visitors make stays collectable
    assert abs(gc.get_freeze_count() - frozen) < 0.01 * frozen  # (frozen objects freed, or tracked anew, move it)
