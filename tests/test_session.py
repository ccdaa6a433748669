"""The server's side of a visit (ui/session.py): what Digit Lab changes in Streamlit's handling of sessions."""

from streamlit import config
from streamlit.runtime.app_session import AppSession

import ui


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
