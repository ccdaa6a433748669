"""Data page: MNIST's own label errors, a training without them, and the room's drawings as a data engine."""

import dataclasses

import streamlit as st

import ui
import ui.data
from core import data_quality
from core.data_engine import MIN_SLICE, PLANTED
from core.i18n import N_, _, ngettext
from core.training import reference as training_reference
from core.training.config import CHOICES

PARTS = {"suspects": N_("Its own mistakes"), "cleaning": N_("Train on cleaner data"), "engine": N_("The data engine")}
SPLITS = {"test": N_("Test digits"), "train": N_("Training digits")}

st.title(_("The data is the program"))
st.caption(
    _(
        "A network is what its data makes it. People wrote MNIST's 70,000 labels and got some wrong; the room's "
        "misread drawings are data it never had. Find the first, feed it the second."
    )
)
part = ui.chosen_part(PARTS, "suspects")

if part == "suspects":
    split = st.segmented_control(
        _("Which digits"), list(SPLITS), format_func=lambda split: _(SPLITS[split]), default="test", required=True
    )
    st.caption(
        _(
            "Ranked by confident learning (cleanlab) on the answers of networks that never saw these digits. "
            "Labelled one thing, read as another: what do you say?"
        )
    )
    ui.data.suspect_gallery(split)
    judged = [verdict for (where, __), verdict in ui.data.votes().items() if where == split]
    if judged:
        wrong = sum(verdict != "label" for verdict in judged)
        st.success(
            _("You judged {judged}: {wrong} labels wrong, {value} right.").format(
                judged=len(judged), wrong=wrong, value=len(judged) - wrong
            )
        )
    with st.expander(_("How are they found?")):
        st.markdown(
            _(
                "A network cannot judge the labels it learnt: it has fitted them. So every digit is judged by networks "
                "that never saw it: the training digits by five networks each trained on the other four fifths "
                "(`scripts/cross_validate.py`), the test digits by the default model and those five together. "
                "Confident learning (Northcutt et al. 2021) then scores each label against what the networks expect "
                "of its class; the lowest scores come first. Nothing else goes in: no list of known errors."
            )
        )

elif part == "cleaning":
    reference = training_reference.load()
    fixes = ui.data.corrections()
    drop = st.select_slider(_("Leave out the most suspect training digits"), CHOICES["drop_suspects"], value=300)
    use = st.toggle(
        _("With my {fixes} corrections (from the training digits I judged)").format(fixes=len(fixes)),
        value=bool(fixes),
        disabled=not fixes,
    )
    config = dataclasses.replace(data_quality.CLEANING_CONFIG, drop_suspects=drop)
    st.caption(
        _(
            "The Train page's quick CNN, seed 0, as many steps as the same run on the digits as they are "
            "(prepared ahead, `python -m scripts.prepare`)."
        )
    )
    corrections = fixes if use else None
    ui.training_button(
        "data_job",
        _("Train on the cleaned digits"),
        config,
        icon=":material/cleaning_services:",
        corrections=corrections,
    )
    ui.data.cleaning_result(reference)

else:
    left, right = st.columns(2)
    with_room = left.toggle(_("The room's shared drawings"), value=True)
    with_own = right.toggle(
        _("My corrections from Draw ({len})").format(len=len(ui.data.own_corrections())), value=True
    )
    data_slice = ui.data.engine_slice(with_room, with_own)
    count = len(data_slice.meant)
    st.caption(
        ngettext(
            "{count} drawing, with the digit its sender meant. It tunes a copy of {model} "
            "(with 4,000 MNIST digits replayed so it keeps the rest), measured on MNIST's test digits and "
            "your own drawings: the wall cannot reach those. The copy joins your models.",
            "{count} drawings, each with the digit its sender meant. They tune a copy of {model} "
            "(with 4,000 MNIST digits replayed so it keeps the rest), measured on MNIST's test digits and "
            "your own drawings: the wall cannot reach those. The copy joins your models.",
            count,
        ).format(count=count, model=ui.as_text(ui.model_name(ui.active_label())))
    )
    defend = st.toggle(
        _("Leave out suspect drawings and any sender's share past a fair one"),
        value=True,
        help=_(
            "Anyone can put drawings on the wall. Suspect: the network and the nearest MNIST digits both disagree "
            "with the digit meant."
        ),
    )
    run, poison = st.columns(2)
    if len(data_slice.meant) < MIN_SLICE:
        st.info(
            _(
                "The engine needs {MIN_SLICE} drawings or more: share drawings with the room on the Draw page, "
                "or keep the ones it misreads with “No, it's a …”."
            ).format(MIN_SLICE=MIN_SLICE),
            icon=":material/draw:",
        )
    elif run.button(_("Run the engine"), type="primary", icon=":material/autorenew:"):
        ui.data.engine(data_slice, defend=defend)
        st.rerun()  # the sidebar's model picker, drawn before, now lists it
    if poison.button(
        _("Poison the well: plant {PLANTED} drawings").format(PLANTED=PLANTED),
        icon=":material/skull:",
        help=_(
            "{PLANTED} of MNIST's 1s with a flag, each labelled 7, from one sender, added to these drawings "
            "in your run only: what one visitor opening many tabs could do to an engine that trusts the "
            "wall."
        ).format(PLANTED=PLANTED),
    ):
        ui.data.engine(ui.data.with_planted(data_slice), defend=defend, poisoned=True)
        st.rerun()
    ui.data.engine_result()
