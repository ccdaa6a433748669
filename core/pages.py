"""Every page of the app in one table: its file, title, icon and section, and its chapter of the talk if it is one.

`app.py` builds the navigation from it and the talk (core/talk.py) its chapters, so a new page is one entry here
(and its script in app_pages/). A chapter is data: its place in the talk, one takeaway, one question for the room,
and the state its page opens in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECTIONS = ("Play", "Learn", "Inspect", "Stage")  # the navigation's groups, in order


@dataclass(frozen=True)
class Talk:
    """A page's chapter of the talk."""

    place: int  # its order in the talk (1 first)
    title: str  # the chapter's title on the presenter's bar
    takeaway: str  # the one sentence the room should leave with
    question: str  # what to ask the room before showing
    state: dict[str, str] = field(default_factory=dict)  # query parameters the page opens in


@dataclass(frozen=True)
class Page:
    name: str  # its file is app_pages/<name>.py, its address /<name>; a chapter's id (?chapters=...)
    title: str  # in the navigation
    icon: str  # a Material icon, as st.Page takes it
    section: str  # one of SECTIONS
    default: bool = False  # the page at the app's root address
    chapter: Talk | None = None  # its chapter of the talk, if it is one

    @property
    def file(self) -> str:
        return f"app_pages/{self.name}.py"


PAGES = (
    Page(
        "draw",
        "Draw",
        ":material/draw:",
        "Play",
        default=True,
        chapter=Talk(
            1,
            "A network reads your digit",
            "A network of 800,000 numbers, tuned on 60,000 examples, reads handwriting it has never seen.",
            "Draw a digit on your phone: will it read yours?",
        ),
    ),
    Page(
        "teach",
        "Teach",
        ":material/school:",
        "Play",
        chapter=Talk(
            7,
            "Learning new things",
            "A handful of drawings teaches a trained network a new symbol: what it learned before does the work.",
            "How many examples does it need to learn a new symbol?",
        ),
    ),
    Page("train", "Train", ":material/model_training:", "Learn"),
    Page(
        "remember",
        "Remember",
        ":material/history:",
        "Learn",
        chapter=Talk(
            8,
            "And forgetting",
            "Taught one thing after another, a network forgets the old; rehearsal keeps it.",
            "Learn 0 and 1, then 2 and 3: what happens to 0 and 1?",
            {"method": "finetune"},
        ),
    ),
    Page(
        "compress",
        "Compress",
        ":material/compress:",
        "Learn",
        chapter=Talk(
            9,
            "Smaller",
            "A network four times smaller reads as well: most of its numbers were never needed at full precision.",
            "How small can it get before it fails?",
        ),
    ),
    Page(
        "scale",
        "Scale",
        ":material/trending_up:",
        "Learn",
        chapter=Talk(
            10,
            "Bigger",
            "Error falls as a power of size: each doubling of the network cuts it (above a floor) by about a third, "
            "each doubling of the data by about two fifths, until it levels off near 0.7%.",
            "Ten times the data or ten times the network: which buys more?",
            {"part": "parameters"},
        ),
    ),
    Page(
        "data",
        "Data",
        ":material/dataset:",
        "Learn",
        chapter=Talk(
            12,
            "The data is the program",
            "The room's misread drawings, labelled by their authors, are the data it lacked: tuned on half, it reads "
            "the other half.",
            "Will it read your digit now?",
            {"part": "engine"},
        ),
    ),
    Page(
        "evaluate",
        "Evaluate",
        ":material/grid_on:",
        "Inspect",
        chapter=Talk(
            2,
            "How it errs",
            "99.6% right is still 41 mistakes in 10,000, and they are not random: they gather in a few pairs of "
            "digits.",
            "Which two digits would you confuse?",
        ),
    ),
    Page(
        "trust",
        "Trust",
        ":material/verified:",
        "Inspect",
        chapter=Talk(
            5,
            "Whom it fails",
            "Average accuracy hides the people it fails: thin strokes, small digits, other hands.",
            "Whose handwriting does it read worst?",
        ),
    ),
    Page(
        "explain",
        "Explain",
        ":material/lightbulb:",
        "Inspect",
        chapter=Talk(
            3,
            "Why it decided",
            "There are several ways to ask a network why, and they disagree: an explanation is a measurement too.",
            "Which pixels made it say 7?",
        ),
    ),
    Page(
        "attack",
        "Attack",
        ":material/bolt:",
        "Inspect",
        chapter=Talk(
            4,
            "Fooled, then made robust",
            "Changes too small to see turn a sure 7 into anything; training on attacks buys robustness at a price.",
            "How much would you have to change a digit to fool it?",
        ),
    ),
    Page(
        "privacy",
        "Privacy",
        ":material/lock:",
        "Inspect",
        chapter=Talk(
            6,
            "What it gives away",
            "A network can tell which digits it learnt from; trained with differential privacy it cannot, for a few "
            "points of accuracy.",
            "Could it tell whether your drawing was in its training set?",
            {"part": "leak"},
        ),
    ),
    Page(
        "room",
        "Room",
        ":material/groups:",
        "Stage",
        chapter=Talk(
            11,
            "The room's results",
            "Your drawings are the test the lab never saw: this is how it does on this room's handwriting.",
            "Whose digits did it get wrong?",
        ),
    ),
    Page("about", "About", ":material/info:", "Stage"),
)
BY_NAME = {page.name: page for page in PAGES}
