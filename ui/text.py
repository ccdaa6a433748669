"""Visitor text made safe for Markdown, and the boundary that turns any error into a friendly message."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterator

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.i18n import _
from core.pictures.data import DataUnavailableError

log = logging.getLogger("digitlab")

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark, which Markdown lets one escape


def as_text(text: object) -> str:
    """Visitor-controlled text (a link's value, a file or run name) made safe to put inside Markdown.

    Every punctuation mark is escaped, so nothing becomes a link, an image, emphasis, HTML or LaTeX,
    and a zero-width space follows each colon, so neither an emoji shortcode nor one of Streamlit's
    `:color[...]` or `:material/...:` directives forms. Line breaks become spaces.
    """
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", flat).replace(":", ":\u200b")


class VisitorError(RuntimeError):
    """An error whose message is meant for the visitor, in plain words (Markdown-safe): the boundary shows it."""


@contextlib.contextmanager
def error_boundary(where: str) -> Iterator[None]:
    """Turn any error in a page (or a fragment, as a decorator) into a friendly message; log the details."""
    try:
        yield
    except DataUnavailableError as error:  # a broken install: say how to fix it
        st.error(str(error), icon=":material/database_off:")
    except VisitorError as error:
        st.warning(str(error), icon=":material/memory:")
    except Exception:
        log.exception("error in %s", where)
        st.error(
            _("Sorry, something went wrong here. It has been logged. Try again, or pick another page or model."),
            icon=":material/sentiment_dissatisfied:",
        )


def spinning(message: str) -> Callable[[Callable], Callable]:
    """A decorator: a spinner saying `message` (marked with N_) in the visitor's language while the function runs.

    For a cached loader, in place of `show_spinner="..."`, whose words are fixed when the module loads. Streamlit
    shows a spinner only past half a second, so a cache hit shows none; outside a page's run there is none at all."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            if get_script_run_ctx(suppress_warning=True) is None:
                return function(*args, **kwargs)
            with st.spinner(_(message)):
                return function(*args, **kwargs)

        run.clear = getattr(function, "clear", None)
        return run

    return decorate
