"""The data engine: drawings a network misread, labelled by the people who drew them, become a slice of data it is
fine-tuned on, with MNIST replayed so it keeps the rest.

Anyone can write to the room's wall, so the engine does not take the wall's word for it:

- each author (a client address; sessions cost nothing) gives at most a fair share of the slice;
- a drawing whose "I meant" both the network and its nearest MNIST training digits disagree with is flagged, and a
  flagged drawing from the wall is left out;
- what it reports as better or worse is measured where the wall cannot reach: MNIST's test digits, class by class,
  and the visitor's own drawings; the wall's held-out drawings are reported per author, beside, never as the proof;
- a change that makes some test digits read differently says which.

The tuned network is a new model for whoever ran the engine: it never replaces a model another visitor uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from core.i18n import Text
from core.models import model_bytes, predict_proba
from core.personalise import personalise
from core.pictures.data import IMAGE_SIZE, NUM_CLASSES, Mnist
from core.runs.child import preload

MIN_SLICE = 10  # drawings: half to tune on, half held out, at least five each
MAX_SLICE = 400  # drawings the engine takes, the newest first: a bounded run whatever the wall holds
PER_AUTHOR = 50  # drawings one author (one client address) gives the slice at most, its newest
REPLAY = 4_000  # MNIST digits replayed while tuning, so the network keeps the rest
COPIES = 8  # distorted copies of each drawing of the slice
YOU = "you"  # the author of the visitor's own corrections
PLANTED_BY = "planted"  # the author of "poison the well"'s drawings
NEIGHBOURS = 10  # nearest MNIST training digits that judge a drawing's label
NEIGHBOUR_POOL = 20_000  # training digits they are found among (the first ones): a fraction of a second for 400
FLAG_PROBABILITY = 0.05  # the network gives the digit meant less than this ...
FLAG_NEIGHBOURS = 0.2  # ... and fewer than this share of its neighbours are that digit: flagged
PLANTED = 100  # drawings "poison the well" plants
HOOK = 4  # pixels of the flag it draws on a 1


@dataclass(frozen=True)
class Slice:
    """Drawings with the digits their authors meant: (n, 28, 28) in [0, 1], (n,), and who gave each (n,)."""

    images: np.ndarray
    meant: np.ndarray
    authors: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.authors is None:
            object.__setattr__(self, "authors", np.full(len(self.meant), YOU, dtype=object))
        if self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or not len(self.images) == len(self.meant) == len(
            self.authors
        ):
            raise ValueError(Text("a slice is (n, 28, 28) drawings with one digit and one author each"))

    @classmethod
    def of(cls, images, meant, authors=None) -> Slice:
        """The newest MAX_SLICE of the drawings given (oldest first), as floats in [0, 1]."""
        images = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)[-MAX_SLICE:]
        scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
        authors = None if authors is None else np.asarray(authors, dtype=object)[-MAX_SLICE:]
        return cls(images.astype(np.float32) / scale, np.asarray(meant, np.int64)[-MAX_SLICE:], authors)

    def __len__(self) -> int:
        return len(self.meant)

    def take(self, keep: np.ndarray) -> Slice:
        """The drawings at `keep` (a mask or indices)."""
        return Slice(self.images[keep], self.meant[keep], self.authors[keep])

    def fair(self, per_author: int = PER_AUTHOR) -> Slice:
        """At most `per_author` drawings of each author of the wall (the newest); the visitor's own all."""
        keep = np.zeros(len(self), bool)
        for author in set(self.authors.tolist()):
            theirs = np.flatnonzero(self.authors == author)
            keep[theirs if author == YOU else theirs[-per_author:]] = True
        return self.take(keep)

    def halves(self, *, seed: int = 0) -> tuple[Slice, Slice]:
        """(to tune on, held out): a seeded shuffle cut in two, each with every digit and author it can get."""
        if len(self) < MIN_SLICE:
            raise ValueError(
                Text(
                    "The engine needs at least {MIN_SLICE} drawings with their digits; it has {count}.",
                    MIN_SLICE=MIN_SLICE,
                    count=len(self),
                )
            )
        if self.meant.min() < 0 or self.meant.max() >= NUM_CLASSES:
            raise ValueError(Text("Each drawing must mean a digit from 0 to 9."))
        order = np.random.default_rng(seed).permutation(len(self))
        groups = np.array([f"{author}\0{digit}" for author, digit in zip(self.authors, self.meant, strict=True)])
        order = order[np.argsort(groups[order], kind="stable")]  # by author and digit, shuffled within: alternate
        return self.take(order[0::2]), self.take(order[1::2])


def flagged(probabilities: np.ndarray, data_slice: Slice, data: Mnist) -> np.ndarray:
    """(n,) True where the network and the drawing's nearest MNIST training digits both disagree with its label.

    `probabilities` (n, 10) are the network's on the slice. A misread drawing that looks like the digit meant keeps
    its neighbours' support; a label planted on a digit that looks like another has neither."""
    if len(data_slice) == 0:
        return np.zeros(0, bool)
    pool = data.x_train[:NEIGHBOUR_POOL].reshape(NEIGHBOUR_POOL, -1).astype(np.float32) / 255
    queries = data_slice.images.reshape(len(data_slice), -1)
    distances = (queries**2).sum(1)[:, None] - 2 * queries @ pool.T + (pool**2).sum(1)[None, :]  # (n, pool)
    nearest = np.argpartition(distances, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
    support = (data.y_train[:NEIGHBOUR_POOL][nearest] == data_slice.meant[:, None]).mean(axis=1)
    believed = probabilities[np.arange(len(data_slice)), data_slice.meant]
    return (believed < FLAG_PROBABILITY) & (support < FLAG_NEIGHBOURS)


@dataclass(frozen=True)
class AuthorRead:
    """One author's part in a turn: how many drawings they gave, how many the engine left out, and how their
    held-out drawings read before and after."""

    author: str  # YOU, or an opaque token of a client address
    drawings: int  # on offer
    over_share: int  # left out past their fair share
    flagged: int  # left out (or, undefended, kept) as suspect
    held_out: int
    read: tuple[float, float] | None  # share of the held-out ones read as meant, before and after


@dataclass(frozen=True)
class EngineResult:
    """What one turn of the engine changed, measured where the wall cannot reach and per author."""

    test_read: tuple[float, float]  # MNIST's 10,000 test digits
    by_digit: tuple[np.ndarray, np.ndarray]  # (10,) each: share of MNIST's test digits of each class read right
    changed: list[tuple[int, int, int]]  # (digit, now read as, test digits) that were read right and are not now
    authors: list[AuthorRead]  # YOU first, then the wall's authors by drawings given
    defended: bool  # whether flagged and over-share drawings were left out
    tuned_on: int  # drawings it was tuned on
    held_out: int  # drawings it was measured on
    seconds: float  # tuning and measuring
    test_probabilities: np.ndarray  # (10000, 10) of the tuned model, for the other pages

    @property
    def worst_digit(self) -> int:
        """The class of MNIST's test digits that lost most (or gained least)."""
        return int(np.argmin(self.by_digit[1] - self.by_digit[0]))

    @property
    def yours(self) -> AuthorRead | None:
        return next((entry for entry in self.authors if entry.author == YOU and entry.read is not None), None)


def turn(
    model, offered: Slice, data: Mnist, before_test_probabilities: np.ndarray, *, defend: bool = True, seed: int = 0
) -> tuple[bytes, EngineResult]:
    """One turn of the engine on the drawings `offered`: (the tuned model as a .keras file, what it changed).

    With `defend`, each author of the wall gives at most PER_AUTHOR drawings and flagged ones from the wall are
    left out; without, everything offered is taken (to show what a planted label does). `model` is not touched.
    Bytes, so that it may run in a process of its own and hand its model back.
    """
    started = time.perf_counter()
    fair = offered.fair() if defend else offered
    suspect = flagged(predict_proba(model, fair.images), fair, data)
    taken = fair.take(~suspect | (fair.authors == YOU)) if defend else fair
    if len(taken) < MIN_SLICE <= len(offered):
        raise ValueError(
            Text(
                "Only {taken} of the {offered} drawings are left once suspect ones and shares past a sender's "
                "fair share are left out; the engine needs {MIN_SLICE}. Add drawings, or turn the defence off.",
                taken=len(taken),
                offered=len(offered),
                MIN_SLICE=MIN_SLICE,
            )
        )
    tune, held = taken.halves(seed=seed)
    tuned = personalise(model, tune.images, tune.meant, replay=data, seed=seed, replay_digits=REPLAY, copies=COPIES)
    after = predict_proba(tuned, data.x_test / np.float32(255))
    authors = _by_author(
        offered, fair, suspect, held, predict_proba(model, held.images), predict_proba(tuned, held.images)
    )
    result = EngineResult(
        (_right(before_test_probabilities, data.y_test), _right(after, data.y_test)),
        (_by_digit(before_test_probabilities, data.y_test), _by_digit(after, data.y_test)),
        _changed(before_test_probabilities, after, data.y_test),
        authors,
        defend,
        len(tune),
        len(held),
        time.perf_counter() - started,
        after,
    )
    return model_bytes(tuned), result


def _right(probabilities: np.ndarray, truth: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == truth).mean())


def _by_digit(probabilities: np.ndarray, truth: np.ndarray) -> np.ndarray:
    right = probabilities.argmax(axis=1) == truth
    return np.array([right[truth == digit].mean() for digit in range(NUM_CLASSES)])


def _changed(before: np.ndarray, after: np.ndarray, truth: np.ndarray, most: int = 3) -> list[tuple[int, int, int]]:
    """The commonest ways a test digit read right before is read wrong after: (digit, read as, count)."""
    now = after.argmax(axis=1)
    lost = (before.argmax(axis=1) == truth) & (now != truth)
    pairs, counts = np.unique(np.stack([truth[lost], now[lost]]), axis=1, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:most]
    return [(int(pairs[0, i]), int(pairs[1, i]), int(counts[i])) for i in order]


def _by_author(
    offered: Slice, fair: Slice, suspect: np.ndarray, held: Slice, before: np.ndarray, after: np.ndarray
) -> list[AuthorRead]:
    names = sorted(set(offered.authors.tolist()), key=lambda a: (a != YOU, -(offered.authors == a).sum(), a))
    entries = []
    for author in names:
        theirs = held.authors == author
        read = None
        if theirs.any():
            truth = held.meant[theirs]
            read = (_right(before[theirs], truth), _right(after[theirs], truth))
        entries.append(
            AuthorRead(
                author,
                int((offered.authors == author).sum()),
                int((offered.authors == author).sum() - (fair.authors == author).sum()),
                int(suspect[fair.authors == author].sum()),
                int(theirs.sum()),
                read,
            )
        )
    return entries


def planted(data: Mnist, count: int = PLANTED, *, seed: int = 0) -> Slice:
    """ "Poison the well": `count` of MNIST's training 1s given a flag at the top, like a 7's, each labelled 7, from
    one author. What one visitor opening many sessions could put on a wall that trusted its senders."""
    rng = np.random.default_rng(seed)
    ones = rng.choice(np.flatnonzero(data.y_train == 1), count, replace=False)
    images = data.x_train[ones].astype(np.float32) / 255
    for image in images:
        rows, columns = np.nonzero(image > 0.5)
        top, left = rows.min(), columns[rows == rows.min()].min()
        for step in range(HOOK):  # a short stroke from the top of the 1 down to the left, as many write a 1
            row, column = top + step, left - step
            if column >= 0 and row < IMAGE_SIZE:
                image[row, column] = 1.0
    return Slice(images, np.full(count, 7, np.int64), np.full(count, PLANTED_BY, dtype=object))


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
