"""The talk: Digit Lab's pages as chapters of one argument, in order, and where the presenter is in it.

A chapter is data (its page, the state the page opens in, one takeaway, one question for the room), kept with its
page in core/pages.py. A speaker may choose and reorder chapters (`?chapters=draw,attack,room`);
the room's phones follow the presenter's stage (core/follow.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.i18n import Text
from core.pages import PAGES


@dataclass(frozen=True)
class Chapter:
    id: str  # as in ?chapters=... and ?chapter=...: its page's name
    title: str
    page: str  # the page's file
    takeaway: str  # the one sentence the room should leave with
    question: str  # what to ask the room before showing
    state: dict[str, str] = field(default_factory=dict)  # query parameters the page opens in


CHAPTERS = tuple(
    Chapter(page.name, page.chapter.title, page.file, page.chapter.takeaway, page.chapter.question, page.chapter.state)
    for page in sorted((page for page in PAGES if page.chapter), key=lambda page: page.chapter.place)
)
BY_ID = {chapter.id: chapter for chapter in CHAPTERS}
MAX_CHAPTERS = 3 * len(CHAPTERS)  # a chosen path may repeat chapters, not without end
MAX_SPEC_CHARACTERS = 400


def path(spec: str | None) -> tuple[Chapter, ...]:
    """The chapters of `?chapters=a,b,c` in the speaker's order; every chapter when `spec` is empty.

    Raises ValueError, naming what it does not know, for an id that is no chapter (the link is the speaker's
    own: a typo should be told, not silently dropped).
    """
    if not spec or not spec.strip():
        return CHAPTERS
    if len(spec) > MAX_SPEC_CHARACTERS:
        raise ValueError(
            Text(
                "the chapter list is longer than {MAX_SPEC_CHARACTERS} characters",
                MAX_SPEC_CHARACTERS=MAX_SPEC_CHARACTERS,
            )
        )
    ids = [part.strip().lower() for part in spec.split(",") if part.strip()]
    unknown = [part for part in ids if part not in BY_ID]
    if unknown:
        known = ", ".join(BY_ID)
        raise ValueError(
            Text(
                "no chapter called {join}; the chapters are {known}",
                join=", ".join(repr(u[:20]) for u in unknown[:3]),
                known=known,
            )
        )
    if len(ids) > MAX_CHAPTERS:
        raise ValueError(Text("a talk has at most {MAX_CHAPTERS} chapters", MAX_CHAPTERS=MAX_CHAPTERS))
    return tuple(BY_ID[part] for part in ids)


def spec(chapters: tuple[Chapter, ...]) -> str:
    """The `?chapters=` value of a path (empty for the whole talk in its order)."""
    return "" if chapters == CHAPTERS else ",".join(chapter.id for chapter in chapters)


def position(chapters: tuple[Chapter, ...], chapter_id: str | None, page: str | None = None) -> int:
    """The index of the chapter shown: by `?chapter=` if it is on `page` (a page's name, "draw"), else the first
    chapter on `page`, else 0."""
    on_page = [index for index, chapter in enumerate(chapters) if page is None or Path(chapter.page).stem == page]
    for index in on_page:
        if chapters[index].id == chapter_id:
            return index
    return on_page[0] if on_page else 0
