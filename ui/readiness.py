"""Is the server ready for a talk: the pre-talk check's lines on what was prepared ahead and what has run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.i18n import _
from core.talk import Chapter


@st.cache_resource(show_spinner=False)
def _pages_run() -> set[str]:
    """The pages some visitor has run on this server since it started."""
    return set()


def page_ran(page: str) -> None:
    """A page (its name, "draw") has run on this server: what it shares with every visitor is computed now."""
    _pages_run().add(page)


def warm_check(chapters: tuple[Chapter, ...]) -> tuple[bool, str]:
    """(ok, words): whether every chapter has run once on this server."""
    cold = [_(chapter.title) for chapter in chapters if Path(chapter.page).stem not in _pages_run()]
    if not cold:
        return True, _("Every chapter has run once on this server: each now comes up at once, for every phone")
    return False, _(
        "Step through the talk once before the room arrives; not yet run on this server: {chapters}. "
        "A chapter's first run computes what every phone then shares (up to 2 s on 2 cores; after, 0.1 s)"
    ).format(chapters=", ".join(cold))


def prepared_check() -> tuple[bool, str]:
    """(ok, words): whether every result prepared ahead is there and matches what it was made from."""
    from core import continual, prepared
    from core.models import SHIPPED_MODELS, shipped_paths
    from core.training import reference

    missing = [
        _("{kind} of {model}").format(kind=kind, model=label)
        for label in SHIPPED_MODELS
        for kind in prepared.KINDS
        if prepared.load(kind, shipped_paths(label)[0]) is None
    ]
    missing += [
        _("Remember's {method}").format(method=method)
        for method in continual.METHODS
        if continual.reference(continual.ContinualConfig(method=method)) is None
    ]
    missing += [] if reference.load() is not None else [_("Train's reference run")]
    if not missing:
        return True, _("The prepared results are there and match their models")
    return False, _("Missing or stale, so computed live: {missing} (`python -m scripts.prepare`)").format(
        missing=", ".join(missing)
    )
