"""The talk: Digit Lab's pages as chapters of one argument, in order, and where the presenter is in it.

A chapter is data (its page, the state the page opens in, one takeaway, one question for the room), so a new
page joins the talk by adding a line here. A speaker may choose and reorder chapters (`?chapters=draw,attack,room`);
the room's phones follow the presenter's `Stage`.
"""

from __future__ import annotations

import threading
import time
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


class Stage:
    """Where the presenter is: the chapter the room's phones follow, and a version that changes with each move.

    One per server, shared by every session; only a keyed presenter moves it. Followers compare the version
    they last followed with `version`, a read of one integer, and after a move run their pages only once the
    presenter's has run (`settled`, `wait_settled`).
    """

    FOLLOWER_SECONDS = 5.0  # a phone that has not looked this long has left
    MAX_FOLLOWERS = 5000  # phones counted; more are followed all the same, only not counted

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0  # 0: no talk has started
        self.chapter: Chapter | None = None
        self._seen: dict[str, float] = {}  # follower token -> when it last looked (time.monotonic)
        self._settled = threading.Event()  # clear from a move until the presenter's page has run
        self._settled.set()
        self._settled_at = 0.0  # when it last ran (time.monotonic)

    def go(self, chapter_id: str) -> int:
        """Move the room to a chapter (ValueError if there is none of that id); the new version."""
        chapter = BY_ID.get(chapter_id)
        if chapter is None:
            raise ValueError(f"no chapter called {chapter_id[:20]!r}")
        with self._lock:
            if chapter != self.chapter:
                self.chapter, self.version = chapter, self.version + 1
                self._settled.clear()
            return self.version

    def settled(self, when: float) -> None:
        """The presenter's page has run after a move (at `when`, time.monotonic): the phones may run theirs."""
        with self._lock:
            self._settled_at = when
        self._settled.set()

    def wait_settled(self, timeout: float, margin: float) -> None:
        """Wait, without holding the GIL, until `margin` seconds after the presenter's page has run, at most `timeout`
        seconds in all (a presenter whose run never ends, a tab closed mid-run, holds no phone for longer)."""
        deadline = time.monotonic() + timeout
        self._settled.wait(timeout)
        with self._lock:
            until = min(self._settled_at + margin, deadline)
        time.sleep(max(0.0, until - time.monotonic()))

    def now(self) -> tuple[int, Chapter | None]:
        with self._lock:
            return self.version, self.chapter

    def seen(self, token: str, when: float) -> None:
        """A follower looked at the stage (for the presenter's count of phones following)."""
        with self._lock:
            if token not in self._seen and len(self._seen) >= self.MAX_FOLLOWERS:
                self._forget(when)
            if token in self._seen or len(self._seen) < self.MAX_FOLLOWERS:
                self._seen[token] = when

    def followers(self, now: float) -> int:
        """Phones that looked within the last few seconds."""
        with self._lock:
            self._forget(now)
            return len(self._seen)

    def _forget(self, now: float) -> None:
        for token in [token for token, when in self._seen.items() if now - when > self.FOLLOWER_SECONDS]:
            del self._seen[token]
