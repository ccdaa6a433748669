"""Every page of the app in one table: its file, title, icon and section, and its chapter of the talk if it is one.

`app.py` builds the navigation from it and the talk (core/talk.py) its chapters, so a new page is one entry here
(and its script in app_pages/). A chapter is data: its place in the talk, one takeaway, one question for the room,
and the state its page opens in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import N_

SECTIONS = (N_("Play"), N_("Learn"), N_("Inspect"), N_("Stage"))  # the navigation's groups, in order


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
        N_("Draw"),
        ":material/draw:",
        N_("Play"),
        default=True,
        chapter=Talk(
            1,
            N_("A network reads your digit"),
            N_("A network of 800,000 numbers, tuned on 60,000 examples, reads handwriting it has never seen."),
            N_("Draw a digit on your phone: will it read yours?"),
        ),
    ),
    Page(
        "teach",
        N_("Teach"),
        ":material/school:",
        N_("Play"),
        chapter=Talk(
            7,
            N_("Learning new things"),
            N_("A handful of drawings teaches a trained network a new symbol: what it learned before does the work."),
            N_("How many examples does it need to learn a new symbol?"),
        ),
    ),
    Page(
        "generate",
        N_("Generate"),
        ":material/brush:",
        N_("Play"),
        chapter=Talk(
            11,
            N_("It can also draw"),
            N_(
                "The same kind of network, run the other way, turns noise into a digit step by step: it draws, "
                "finishes your drawing, and rarely copies what it learnt from."
            ),
            N_("Which digit should it draw?"),
            {"part": "draw"},
        ),
    ),
    Page("train", N_("Train"), ":material/model_training:", N_("Learn")),
    Page(
        "remember",
        N_("Remember"),
        ":material/history:",
        N_("Learn"),
        chapter=Talk(
            8,
            N_("And forgetting"),
            N_("Taught one thing after another, a network forgets the old; rehearsal keeps it."),
            N_("Learn 0 and 1, then 2 and 3: what happens to 0 and 1?"),
            {"method": "finetune"},
        ),
    ),
    Page(
        "labels",
        N_("Labels"),
        ":material/label:",
        N_("Learn"),
        chapter=Talk(
            13,
            N_("Labels are expensive"),
            N_(
                "Learnt first from the digits alone, a network needs a few labels, not sixty thousand: the "
                "unlabelled digits do most of the teaching."
            ),
            N_("How many labelled digits does it need to read nine in ten right?"),
            {"part": "curve"},
        ),
    ),
    Page(
        "compress",
        N_("Compress"),
        ":material/compress:",
        N_("Learn"),
        chapter=Talk(
            9,
            N_("Smaller"),
            N_("A network four times smaller reads as well: most of its numbers were never needed at full precision."),
            N_("How small can it get before it fails?"),
        ),
    ),
    Page(
        "scale",
        N_("Scale"),
        ":material/trending_up:",
        N_("Learn"),
        chapter=Talk(
            10,
            N_("Bigger"),
            N_(
                "Error falls as a power of size: each doubling of the network cuts it (above a floor) by about a "
                "third, each doubling of the data by about two fifths, until it levels off near 0.7%."
            ),
            N_("Ten times the data or ten times the network: which buys more?"),
            {"part": "parameters"},
        ),
    ),
    Page(
        "data",
        N_("Data"),
        ":material/dataset:",
        N_("Learn"),
        chapter=Talk(
            14,
            N_("The data is the program"),
            N_(
                "The room's misread drawings, labelled by their authors, are the data it lacked: tuned on half, it "
                "reads the other half."
            ),
            N_("Will it read your digit now?"),
            {"part": "engine"},
        ),
    ),
    Page(
        "evaluate",
        N_("Evaluate"),
        ":material/grid_on:",
        N_("Inspect"),
        chapter=Talk(
            2,
            N_("How it errs"),
            N_(
                "99.6% right is still 41 mistakes in 10,000, and they are not random: they gather in a few pairs of "
                "digits."
            ),
            N_("Which two digits would you confuse?"),
        ),
    ),
    Page(
        "trust",
        N_("Trust"),
        ":material/verified:",
        N_("Inspect"),
        chapter=Talk(
            5,
            N_("Whom it fails"),
            N_("Average accuracy hides the people it fails: thin strokes, small digits, other hands."),
            N_("Whose handwriting does it read worst?"),
        ),
    ),
    Page(
        "explain",
        N_("Explain"),
        ":material/lightbulb:",
        N_("Inspect"),
        chapter=Talk(
            3,
            N_("Why it decided"),
            N_("There are several ways to ask a network why, and they disagree: an explanation is a measurement too."),
            N_("Which pixels made it say 7?"),
        ),
    ),
    Page(
        "attack",
        N_("Attack"),
        ":material/bolt:",
        N_("Inspect"),
        chapter=Talk(
            4,
            N_("Fooled, then made robust"),
            N_("Changes too small to see turn a sure 7 into anything; training on attacks buys robustness at a price."),
            N_("How much would you have to change a digit to fool it?"),
        ),
    ),
    Page(
        "privacy",
        N_("Privacy"),
        ":material/lock:",
        N_("Inspect"),
        chapter=Talk(
            6,
            N_("What it gives away"),
            N_(
                "A network can tell which digits it learnt from; trained with differential privacy it cannot, for a "
                "few points of accuracy."
            ),
            N_("Could it tell whether your drawing was in its training set?"),
            {"part": "leak"},
        ),
    ),
    Page(
        "room",
        N_("Room"),
        ":material/groups:",
        N_("Stage"),
        chapter=Talk(
            12,
            N_("The room's results"),
            N_("Your drawings are the test the lab never saw: this is how it does on this room's handwriting."),
            N_("Whose digits did it get wrong?"),
        ),
    ),
    Page("about", N_("About"), ":material/info:", N_("Stage")),
)
BY_NAME = {page.name: page for page in PAGES}
