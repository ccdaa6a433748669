"""The talk: Digit Lab's pages as chapters of one argument, in order, and where the presenter is in it.

A chapter is data (its page, the state the page opens in, one takeaway, one question for the room), so a new
page joins the talk by adding a line here. A speaker may choose and reorder chapters (`?chapters=draw,attack,room`);
the room's phones follow the presenter's stage (core/follow.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Chapter:
    id: str  # as in ?chapters=... and ?chapter=...
    title: str
    page: str  # the page's file, as app.py names it
    takeaway: str  # the one sentence the room should leave with
    question: str  # what to ask the room before showing
    state: dict[str, str] = field(default_factory=dict)  # query parameters the page opens in


CHAPTERS = (
    Chapter(
        "draw",
        "A network reads your digit",
        "app_pages/draw.py",
        "A network of 800,000 numbers, tuned on 60,000 examples, reads handwriting it has never seen.",
        "Draw a digit on your phone: will it read yours?",
    ),
    Chapter(
        "evaluate",
        "How it errs",
        "app_pages/evaluate.py",
        "99.6% right is still 41 mistakes in 10,000, and they are not random: they gather in a few pairs of digits.",
        "Which two digits would you confuse?",
    ),
    Chapter(
        "explain",
        "Why it decided",
        "app_pages/explain.py",
        "There are several ways to ask a network why, and they disagree: an explanation is a measurement too.",
        "Which pixels made it say 7?",
    ),
    Chapter(
        "attack",
        "Fooled, then made robust",
        "app_pages/attack.py",
        "Changes too small to see turn a sure 7 into anything; training on attacks buys robustness at a price.",
        "How much would you have to change a digit to fool it?",
    ),
    Chapter(
        "trust",
        "Whom it fails",
        "app_pages/trust.py",
        "Average accuracy hides the people it fails: thin strokes, small digits, other hands.",
        "Whose handwriting does it read worst?",
    ),
    Chapter(
        "privacy",
        "What it gives away",
        "app_pages/privacy.py",
        "A network can tell which digits it learnt from; trained with differential privacy it cannot, for a few "
        "points of accuracy.",
        "Could it tell whether your drawing was in its training set?",
        {"part": "leak"},
    ),
    Chapter(
        "teach",
        "Learning new things",
        "app_pages/teach.py",
        "A handful of drawings teaches a trained network a new symbol: what it learned before does the work.",
        "How many examples does it need to learn a new symbol?",
    ),
    Chapter(
        "remember",
        "And forgetting",
        "app_pages/remember.py",
        "Taught one thing after another, a network forgets the old; rehearsal keeps it.",
        "Learn 0 and 1, then 2 and 3: what happens to 0 and 1?",
        {"method": "finetune"},
    ),
    Chapter(
        "compress",
        "Smaller",
        "app_pages/compress.py",
        "A network four times smaller reads as well: most of its numbers were never needed at full precision.",
        "How small can it get before it fails?",
    ),
    Chapter(
        "scale",
        "Bigger",
        "app_pages/scale.py",
        "Error falls as a power of size: each doubling of the network cuts it (above a floor) by about a third, each "
        "doubling of the data by about two fifths, until it levels off near 0.7%.",
        "Ten times the data or ten times the network: which buys more?",
        {"part": "parameters"},
    ),
    Chapter(
        "room",
        "The room's results",
        "app_pages/room.py",
        "Your drawings are the test the lab never saw: this is how it does on this room's handwriting.",
        "Whose digits did it get wrong?",
    ),
    Chapter(
        "data",
        "The data is the program",
        "app_pages/data.py",
        "The room's misread drawings, labelled by their authors, are the data it lacked: tuned on half, it reads "
        "the other half.",
        "Will it read your digit now?",
        {"part": "engine"},
    ),
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
        raise ValueError(f"the chapter list is longer than {MAX_SPEC_CHARACTERS} characters")
    ids = [part.strip().lower() for part in spec.split(",") if part.strip()]
    unknown = [part for part in ids if part not in BY_ID]
    if unknown:
        known = ", ".join(BY_ID)
        raise ValueError(f"no chapter called {', '.join(repr(u[:20]) for u in unknown[:3])}; the chapters are {known}")
    if len(ids) > MAX_CHAPTERS:
        raise ValueError(f"a talk has at most {MAX_CHAPTERS} chapters")
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
