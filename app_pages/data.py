"""Data page: MNIST's own label errors, a training without them, and the room's drawings as a data engine."""

import dataclasses

import streamlit as st

import ui
import ui.data
from core import data_quality
from core.data_engine import MIN_SLICE, turn
from core.models import model_from_bytes
from core.training import reference as training_reference
from core.training.config import CHOICES

PARTS = {"suspects": "Its own mistakes", "cleaning": "Train on cleaner data", "engine": "The data engine"}
SPLITS = {"test": "Test digits", "train": "Training digits"}

st.title("The data is the program")
st.caption(
    "A network is what its data makes it. People wrote MNIST's 70,000 labels and got some wrong; the room's "
    "misread drawings are data it never had. Find the first, feed it the second."
)
asked = st.query_params.get("part")
part = st.segmented_control(
    "Show", list(PARTS), format_func=PARTS.get, default=asked if asked in PARTS else "suspects", required=True
)

if part == "suspects":
    split = st.segmented_control("Which digits", list(SPLITS), format_func=SPLITS.get, default="test", required=True)
    st.caption(
        "Ranked by confident learning (cleanlab) on the answers of networks that never saw these digits. "
        "Labelled one thing, read as another: what do you say?"
    )
    ui.data.suspect_gallery(split)
    judged = [verdict for (where, _), verdict in ui.data.votes().items() if where == split]
    if judged:
        wrong = sum(verdict != "label" for verdict in judged)
        st.success(f"You judged {len(judged)}: {wrong} labels wrong, {len(judged) - wrong} right.")
    with st.expander("How are they found?"):
        st.markdown(
            "A network cannot judge the labels it learnt: it has fitted them. So every digit is judged by networks "
            "that never saw it: the training digits by five networks each trained on the other four fifths "
            "(`scripts/cross_validate.py`), the test digits by the default model and those five together. "
            "Confident learning (Northcutt et al. 2021) then scores each label against what the networks expect "
            "of its class; the lowest scores come first. Nothing else goes in: no list of known errors."
        )

elif part == "cleaning":
    reference = training_reference.load()
    fixes = ui.data.corrections()
    drop = st.select_slider("Leave out the most suspect training digits", CHOICES["drop_suspects"], value=300)
    use = st.toggle(
        f"With my {len(fixes)} corrections (from the training digits I judged)", value=bool(fixes), disabled=not fixes
    )
    config = dataclasses.replace(data_quality.CLEANING_CONFIG, drop_suspects=drop)
    st.caption(
        "The Train page's quick CNN, seed 0, as many steps as the same run on the digits as they are "
        "(prepared ahead, `python -m scripts.prepare`)."
    )
    corrections = fixes if use else None
    ui.training_button(
        "data_job", "Train on the cleaned digits", config, icon=":material/cleaning_services:", corrections=corrections
    )
    ui.data.cleaning_result(reference)

else:
    left, right = st.columns(2)
    with_room = left.toggle("The room's shared drawings", value=True)
    with_own = right.toggle(f"My corrections from Draw ({len(ui.data.own_corrections())})", value=True)
    data_slice = ui.data.engine_slice(with_room, with_own)
    count = len(data_slice.meant)
    st.caption(
        f"{count} drawing{'s' * (count != 1)}, each with the digit its author meant. Half tune a copy of "
        f"{ui.as_text(ui.active_label())} (with 4,000 MNIST digits replayed so it keeps the rest); the other half, "
        "never trained on, measure it. The copy joins your models: nobody else's model changes."
    )
    if len(data_slice.meant) < MIN_SLICE:
        st.info(
            f"The engine needs {MIN_SLICE} drawings or more: share drawings with the room on the Draw page, or keep "
            "the ones it misreads with “No, it's a …”.",
            icon=":material/draw:",
        )
    elif st.button("Run the engine", type="primary", icon=":material/autorenew:"):
        tune, held = data_slice.halves()
        tuned, result = ui.bounded(
            ui.active_label(),
            turn,
            tune,
            held,
            ui.mnist(),
            ui.test_probabilities(ui.active_label()),
            message=f"Tuning on {len(tune.meant)} drawings and 4,000 MNIST digits, then measuring…",
        )
        ui.registry().add_model(
            "engine", ui.active_label(), model_from_bytes(tuned), result.test_probabilities, result.test_read[1]
        )
        st.session_state.data_engine = (result, ui.registry().runs[-1].name)
        st.rerun()  # the sidebar's model picker, drawn before, now lists it
    ui.data.engine_result()
