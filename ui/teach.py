"""The Teach page's two tabs: new symbols from a handful of drawings, and a visitor's own handwriting."""

import time

import numpy as np
import streamlit as st

from core.figures.bars import probability_list
from core.figures.pictures import enlarge
from core.figures.symbols import transfer_figure
from core.i18n import _, ngettext
from core.models import model_bytes, model_from_bytes, predict_proba
from core.personalise import personalised
from core.symbols import MIN_EXAMPLES, Examples, check_symbols, compare, learn_symbols
from ui.canvas import CANVAS_SIZE, drawing_canvas, show_refusal
from ui.models import active_label, active_model, mnist, model_name, registry, test_probabilities
from ui.talk import small_projector
from ui.text import as_text
from ui.views import run_apart

TALK_720_CANVAS_SIZE = 220  # px: the canvas and the buttons under it above a 1280x720 projector's fold


def canvas(key: str) -> np.ndarray | None:
    """A drawing canvas that starts blank whenever `key`'s counter moves on; (28, 28) of what is drawn, or None.

    Smaller on a 1280x720 projector: its buttons below it stay above the fold."""
    count = st.session_state.setdefault(f"{key}_count", 0)
    st.markdown(_("**Draw here**"))  # also keeps the canvas toolbar clear of what is above
    size = TALK_720_CANVAS_SIZE if small_projector() else CANVAS_SIZE
    drawn = drawing_canvas(f"{key}_{count}", size=size)
    show_refusal(drawn)
    return drawn.image


def clear(key: str) -> None:
    st.session_state[f"{key}_count"] += 1


def thumbnails(images, captions) -> None:
    st.image([enlarge(image, 2) for image in images], caption=captions, width=56)


def symbols() -> None:
    """Symbols the visitor names and draws, learnt by a small head on the digit network's features."""
    examples: Examples = st.session_state.setdefault("symbol_examples", Examples())
    text = st.text_input(_("Symbols to teach, separated by commas"), "✓, ✗, ★", max_chars=200, key="symbol_names")
    try:
        names = check_symbols(text.split(","))
    except ValueError as error:
        st.warning(as_text(error))
        names = []
    images, labels = examples.of_symbols(names)  # drawings of symbols renamed away are kept, not learnt
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        drawing = canvas("symbol_canvas")
        buttons = st.columns(min(4, max(1, len(names))))
        for index, name in enumerate(names):
            if buttons[index % len(buttons)].button(
                _("Add as {name}").format(name=as_text(name)), key=f"add_{index}", width="stretch"
            ):
                try:
                    examples.add(name, drawing)
                    clear("symbol_canvas")
                    st.rerun()
                except ValueError as error:
                    st.warning(as_text(error))
    missing = examples.missing(names) if names else _("Name at least two symbols first.")
    missing = as_text(missing) if missing else None  # it names the visitor's symbols
    with right:  # Learn beside the canvas: in view with it, on a laptop and on a projector
        if st.button(_("Learn"), type="primary", icon=":material/school:", disabled=missing is not None, help=missing):
            started = time.perf_counter()
            st.session_state.symbol_classifier = learn_symbols(active_model(), images, labels)
            st.session_state.learnt_in = time.perf_counter() - started
            st.rerun()
        if missing and names:
            st.caption(missing)
        classifier = st.session_state.get("symbol_classifier")
        if classifier is not None and classifier.classes == names:
            reading = classifier.predict_proba(drawing[None])[0] if drawing is not None else None
            st.markdown(
                _("**It reads: {as_text}**").format(as_text=as_text(names[reading.argmax()]))
                if reading is not None
                else _("**Draw one of your symbols to see what it reads.**")
            )
            st.html(probability_list(reading if reading is not None else [0.0] * len(names), names))
        elif classifier is not None:
            st.info(_("You changed the symbols: press Learn again."))
        else:
            st.info(
                _(
                    "Draw each symbol at least {MIN_EXAMPLES} times (five is better), adding each drawing with its "
                    "button, then press Learn."
                ).format(MIN_EXAMPLES=MIN_EXAMPLES),
                icon="✏️",
            )
    for name in names:
        indices = examples.of(name)
        st.markdown(
            ngettext("**{name}**: {count} drawing", "**{name}**: {count} drawings", len(indices)).format(
                name=as_text(name), count=len(indices)
            )
        )
        if indices:
            thumbnails([examples.images[i] for i in indices], [str(n + 1) for n in range(len(indices))])
    undo, remove = st.columns(2)
    if undo.button(_("Undo the last drawing"), icon=":material/undo:", disabled=not examples.labels):
        examples.undo()
        st.rerun()
    with remove.popover(_("Remove one drawing"), icon=":material/delete:", disabled=not examples.labels):
        for index, name in enumerate(examples.labels):
            if st.button(f"{as_text(name)} #{examples.of(name).index(index) + 1}", key=f"remove_{index}"):
                examples.remove(index)
                st.rerun()
    if classifier is not None and classifier.classes == names:
        st.caption(
            _("Learnt in {learnt_in:.1f} s from {labels} drawings, on the features of {as_text}.").format(
                learnt_in=st.session_state.learnt_in, labels=len(labels), as_text=as_text(model_name(active_label()))
            )
        )
        st.download_button(
            _("Download the symbol reader (.keras)"),
            classifier.to_bytes,
            "digit-lab-symbols.keras",
            icon=":material/download:",
        )
    with st.expander(_("Why does this work?")):
        st.markdown(
            _(
                "Each learner gets 1, 2, 5 or 10 of your drawings per symbol and is tested on the rest: "
                "**frozen features** (a small head on the digit network's last hidden layer, as above), the "
                "same head on "
                "**raw pixels**, and a small CNN trained **from scratch**."
            )
        )
        if st.button(_("Compare on my drawings"), disabled=missing is not None):
            bar = st.progress(0.0, _("Training three learners on your drawings…"))
            st.session_state.symbol_comparison = compare(active_model(), images, labels, on_progress=bar.progress)
            bar.empty()
        if "symbol_comparison" in st.session_state:
            st.plotly_chart(transfer_figure(st.session_state.symbol_comparison), width="stretch")


def handwriting() -> None:
    """The visitor's digits, read and corrected, then a fine-tune on them (with replay) as a model of their own."""
    mine: Examples = st.session_state.setdefault("handwriting", Examples())
    model = active_model()
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        drawing = canvas("hand_canvas")
    with right:
        probabilities = predict_proba(model, drawing[None])[0] if drawing is not None else None
        read = int(probabilities.argmax()) if probabilities is not None else 0
        st.markdown(
            _("**{as_text} reads: {read}**").format(as_text=as_text(model_name(active_label())), read=read)
            if probabilities is not None
            else _("**Draw a digit; correct the network where it is wrong.**")
        )
        # required: pressing the chosen digit again keeps it (it used to unchoose it and turn Add off unexplained)
        meant = st.segmented_control(_("I meant"), list(range(10)), default=read, key=f"meant_{read}", required=True)
        if st.button(
            _("Add this drawing"),
            icon=":material/add:",
            disabled=drawing is None,
            help=_("Draw a digit first") if drawing is None else _("Keep it as a {meant}").format(meant=meant),
        ):
            mine.add(str(meant), drawing)
            clear("hand_canvas")
            st.rerun()
    if mine.labels:
        before = predict_proba(model, mine.images).argmax(axis=1)
        thumbnails(
            mine.images, [f"{m} {'✓' if int(m) == r else f'≠ {r}'}" for m, r in zip(mine.labels, before, strict=True)]
        )
        st.caption(
            _("{sum} of {labels} read right now. ✓: read right; ≠: what it reads instead.").format(
                sum=sum(int(m) == r for m, r in zip(mine.labels, before, strict=True)), labels=len(mine.labels)
            )
        )
    if st.button(
        _("Fine-tune on my drawings"),
        type="primary",
        disabled=len(mine.labels) < 5,
        help=_("Needs at least five drawings."),
    ):
        digits = np.array([int(label) for label in mine.labels])
        tuned, change = run_apart(
            active_label(),
            personalised,
            np.array(mine.images),
            digits,
            mnist(),
            test_probabilities(active_label()),
            message=_("Fine-tuning on your drawings and 2,000 MNIST digits, then reading the 10,000 test digits…"),
        )
        registry().add_model(
            "personal", active_label(), model_from_bytes(tuned), change.test_probabilities, change.test[1]
        )
        st.session_state.personal = (change, registry().runs[-1])
        st.rerun()  # the sidebar's model picker, drawn before, now lists it
    if "personal" in st.session_state:
        change, run = st.session_state.personal
        st.success(
            _("Added {name} to your models: pick it in the sidebar to draw with it.").format(name=as_text(run.name))
        )
        yours, tests = st.columns(2)
        yours.metric(
            _("Your drawings read right"),
            f"{change.yours[1]:.0%}",
            _("{change} points").format(change=f"{(change.yours[1] - change.yours[0]) * 100:+.0f}"),
        )
        tests.metric(
            _("MNIST test digits read right"),
            f"{change.test[1]:.2%}",
            _("{change} points").format(change=f"{(change.test[1] - change.test[0]) * 100:+.2f}"),
        )
        st.download_button(
            _("Download it (.keras)"),
            lambda: model_bytes(run.model),
            "digit-lab-personal.keras",
            icon=":material/download:",
        )
