"""The data a visitor judges and gathers: their votes on suspected label errors, and drawings they corrected."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from core import data_quality
from core.data_engine import MAX_SLICE, PER_AUTHOR, PLANTED_BY, REPLAY, YOU, Slice, planted, turn
from core.figures.pictures import enlarge
from core.i18n import N_, _
from core.models import model_from_bytes
from core.pictures.data import IMAGE_SIZE
from core.reading import Reading
from core.training.reference import Reference
from ui.models import active_label, mnist, registry, test_probabilities
from ui.shared import png_urls
from ui.stage import room
from ui.text import as_text, spinning
from ui.views import run_apart

PAGE, MOST_SHOWN = 12, 120  # suspects shown at once, and at most
MAX_CORRECTIONS = 200  # drawings a visitor keeps with the digit they meant (the newest)
MAX_VOTES = 1_000  # suspects one visitor may judge: their corrections train a run
NEITHER = "Neither"  # a vote that the digit is no clear digit at all: leave it out
ENGINE_SECONDS = 20.0  # a turn of the engine, expected (bench/data_quality.py)
CHANGE_WORTH_SAYING = 5  # test digits read differently in the same way: said out loud


@spinning(N_("Ranking the digits by how suspect their labels are…"))
@st.cache_resource(show_spinner=False)
def suspects(split: str) -> list[int]:
    """The split's digits, most suspect first: one ranking for the whole server."""
    return data_quality.suspects(split)


@st.cache_resource(show_spinner=False)
def out_of_sample(split: str) -> np.ndarray:
    return data_quality.out_of_sample(split)


def votes() -> dict[tuple[str, int], str]:
    """This visitor's verdicts: (split, index) -> "label", "network" or NEITHER."""
    return st.session_state.setdefault("data_votes", {})


def vote(split: str, index: int, verdict: str | None) -> None:
    kept = votes()
    if verdict is None:
        kept.pop((split, index), None)
    elif (split, index) in kept or len(kept) < MAX_VOTES:
        kept[(split, index)] = verdict


def suspect_gallery(split: str) -> None:
    """The split's most suspect digits, a page at a time, each with the visitor's vote on its label."""
    ranking, probabilities = suspects(split), out_of_sample(split)
    images, labels = data_quality.digits(split, mnist())
    shown = st.session_state.setdefault(f"data_shown_{split}", PAGE)
    columns = st.columns(4)
    pictures = png_urls(enlarge, images[ranking[:shown]] / 255.0, factor=3)
    for rank, index in enumerate(ranking[:shown]):
        label, said = int(labels[index]), int(probabilities[index].argmax())
        options = {"label": str(label), "network": str(said), NEITHER: NEITHER}
        if said == label:
            del options["network"]
        with columns[rank % 4].container(border=True):
            picture, words = st.columns([1, 1.4], vertical_alignment="center")
            picture.image(pictures[rank], width=84)
            sure = probabilities[index, said]
            words.markdown(
                _("**#{value}**  \nlabelled **{label}**  \nread as **{said}** ({sure:.0%})").format(
                    value=rank + 1, label=label, said=said, sure=sure
                )
            )
            verdict = st.segmented_control(
                _("It is a…"),
                list(options),
                format_func=options.get,
                default=votes().get((split, index)),
                key=f"vote_{split}_{index}",
            )
            vote(split, index, verdict)
    if shown < MOST_SHOWN and st.button(_("Show {PAGE} more").format(PAGE=PAGE), icon=":material/expand_more:"):
        st.session_state[f"data_shown_{split}"] = shown + PAGE
        st.rerun()


def corrections() -> dict[int, int | None]:
    """The training labels this visitor voted wrong: index -> the network's digit, or None (no clear digit)."""
    probabilities = out_of_sample("train")
    fixed = {}
    for (split, index), verdict in votes().items():
        if split == "train" and verdict != "label":
            fixed[index] = int(probabilities[index].argmax()) if verdict == "network" else None
    return fixed


def keep_correction(reading: Reading, meant: int) -> None:
    """Keep a drawing the network misread, with the digit its author meant, for the data engine."""
    kept = st.session_state.setdefault("corrected_drawings", [])
    kept.append(((np.clip(reading.image, 0, 1) * 255).astype(np.uint8), int(meant)))
    del kept[:-MAX_CORRECTIONS]


def correction_button(reading: Reading, meant: int) -> None:
    """The Draw page's "No, it's a 4": keeps a misread drawing for the data engine (the Data page)."""
    kept = len(own_corrections())
    if meant == reading.digit:
        st.caption(
            _("Read wrong? Pick the digit you meant above, then keep it for the data engine ({kept} kept).").format(
                kept=kept
            )
        )
        return
    if st.button(_("No, it's a {meant}: keep it for the data engine").format(meant=meant), icon=":material/add_task:"):
        keep_correction(reading, meant)
        st.toast(
            _("Kept as a {meant}: the Data page's engine learns from it.").format(meant=meant),
            icon=":material/add_task:",
        )


def own_corrections() -> list[tuple[np.ndarray, int]]:
    return st.session_state.get("corrected_drawings", [])


def engine_slice(with_room: bool, with_own: bool) -> Slice:
    """The drawings the engine is offered: the room's shared ones and this visitor's corrections, newest last."""
    shares = room().latest(MAX_SLICE)[::-1] if with_room else []
    own = own_corrections() if with_own else []
    images = [share.image for share in shares] + [image for image, __ in own]
    meant = [share.meant for share in shares] + [digit for __, digit in own]
    authors = [share.author for share in shares] + [YOU] * len(own)
    if not images:
        return Slice(np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32), np.zeros(0, np.int64))
    return Slice.of(np.stack(images), meant, authors)


def cleaning_result(reference: Reference | None) -> None:
    """The cleaned run's test accuracy beside the same run on the digits as they are."""
    as_is, cleaned = st.columns(2)
    if reference is None:
        as_is.info(_("The run on the digits as they are is not prepared: `python -m scripts.prepare`."))
    else:
        as_is.metric(_("Test accuracy, digits as they are"), f"{reference.test_accuracy:.2%}", border=True)
    result = st.session_state.get("data_job_result")
    if result is not None:
        change = None
        if reference:
            change = _("{change} points").format(
                change=f"{(result.test_accuracy - reference.test_accuracy) * 100:+.2f}"
            )
        cleaned.metric(_("Cleaned"), f"{result.test_accuracy:.2%}", change, border=True)
        dropped = st.session_state.data_job.config.drop_suspects
        cleaned.caption(
            _("{dropped:,} suspects left out, {corrected} of your corrections; it is in your models.").format(
                dropped=dropped, corrected=result.corrected
            )
        )


def with_planted(data_slice: Slice) -> Slice:
    """The drawings offered with "poison the well"'s planted ones after them (this visitor's run only)."""
    planted = planted_drawings()
    return Slice(
        np.concatenate([data_slice.images, planted.images]),
        np.concatenate([data_slice.meant, planted.meant]),
        np.concatenate([data_slice.authors, planted.authors]),
    )


@st.cache_resource(show_spinner=False)
def planted_drawings() -> Slice:
    return planted(mnist())


def engine(data_slice: Slice, *, defend: bool, poisoned: bool = False) -> None:
    """One turn of the engine on `data_slice` for the sidebar's model, in the server's line; its model joins the
    visitor's and its report is kept for `engine_result`."""
    label = active_label()
    tuned, result = run_apart(
        label,
        partial(turn, defend=defend),
        data_slice,
        mnist(),
        test_probabilities(label),
        message=_("Tuning on the drawings and {count:,} MNIST digits, then measuring…").format(count=REPLAY),
        seconds=ENGINE_SECONDS,
    )
    kind = "poisoned" if poisoned else "engine"
    registry().add_model(kind, label, model_from_bytes(tuned), result.test_probabilities, result.test_read[1])
    st.session_state.data_engine = (result, registry().runs[-1].name)


def engine_result() -> None:
    """What the engine's last turn changed, measured where the wall cannot reach, and per author."""
    if "data_engine" not in st.session_state:
        return
    result, name = st.session_state.data_engine
    st.success(_("Added {name} to your models: pick it in the sidebar to draw with it.").format(name=as_text(name)))
    tests, worst, yours = st.columns(3)
    before, after = result.test_read
    tests.metric(
        _("MNIST test digits read right"),
        f"{after:.2%}",
        _("{change} points").format(change=f"{(after - before) * 100:+.2f}"),
        border=True,
    )
    digit = result.worst_digit
    before, after = result.by_digit[0][digit], result.by_digit[1][digit]
    worst.metric(
        _("MNIST's test {digit}s, the digit that lost most").format(digit=digit),
        f"{after:.2%}",
        _("{change} points").format(change=f"{(after - before) * 100:+.2f}"),
        border=True,
    )
    if result.yours is not None:
        before, after = result.yours.read
        yours.metric(
            _("Your {held_out} held-out drawings").format(held_out=result.yours.held_out),
            f"{after:.0%}",
            _("{change} points").format(change=f"{(after - before) * 100:+.0f}"),
            border=True,
        )
    else:
        yours.caption(_("Keep misread drawings with “No, it's a …” on the Draw page to be measured on your own too."))
    for digit, read_as, count in result.changed:
        if count >= CHANGE_WORTH_SAYING:
            st.warning(
                _("{count} of MNIST's test {digit}s that were read right are now read as {read_as}.").format(
                    count=count, digit=digit, read_as=read_as
                ),
                icon=":material/swap_horiz:",
            )
    st.markdown(_("**Who gave what**: the room's held-out drawings read as their senders said, by sender"))
    rows, senders = [], 0
    for entry in result.authors:
        senders += entry.author not in (YOU, PLANTED_BY)
        rows.append(
            {
                _("sender"): {YOU: _("you"), PLANTED_BY: _("planted (poison the well)")}.get(
                    entry.author, _("sender {number}").format(number=senders)
                ),
                _("drawings"): entry.drawings,
                _("past fair share"): entry.over_share,
                _("flagged"): entry.flagged,
                _("held out"): entry.held_out,
                _("read as meant before"): "–" if entry.read is None else f"{entry.read[0]:.0%}",
                _("after"): "–" if entry.read is None else f"{entry.read[1]:.0%}",
            }
        )
    st.dataframe(rows, hide_index=True)
    left_out = _("left out") if result.defended else _("kept anyway (the engine trusted the wall)")
    st.caption(
        _(
            "Tuned on {tuned_on} drawings in {seconds:.0f} s. Flagged: the network and the nearest MNIST "
            "training digits both disagree with the digit meant; flagged drawings and those past a sender's "
            "fair share ({PER_AUTHOR}) were {left_out}. A sender is a network address. The room's drawings "
            "are not the proof: anyone can put drawings on the wall, so what counts is MNIST's test digits "
            "and your own."
        ).format(tuned_on=result.tuned_on, seconds=result.seconds, PER_AUTHOR=PER_AUTHOR, left_out=left_out)
    )
