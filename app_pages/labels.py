"""Labels: how far a few labels go when the network first learns from unlabelled digits, and digits you label."""

import streamlit as st

import ui
import ui.labels as lab
from core.i18n import N_, _
from core.labels import BEST, METHODS
from core.labels.choice import CHOICES

PARTS = {
    "curve": N_("How far a few labels go"),
    "map": N_("Without labels, it already sorts them"),
    "yourself": N_("Label them yourself"),
}
WHOSE = {"mine": N_("Mine"), "room": N_("The room's, labelled together")}

st.title(_("Labels"))
st.caption(
    _(
        "Every other network here learnt from 60,000 labelled digits. Labels cost people's time: here a network "
        "first learns from the digits alone, then from a few labels."
    )
)
if not lab.available():
    st.info(_("The encoder is not shipped here: `python -m scripts.pretrain` makes it (under an hour)."))
    st.stop()
part = ui.chosen_part(PARTS, "curve")
own = st.session_state.get("labels_runs", [])

if part == "curve":
    if lab.shipped_sweep() is None:
        st.info(_("The curve is not shipped here: `python -m scripts.labels_sweep` makes it (about 45 minutes)."))
    st.plotly_chart(lab.curve_chart(own), width="stretch", key="labels_curve")
    st.caption(
        _(
            "Test accuracy, the median of 3 draws of which digits are labelled (the same number of each digit). "
            "From scratch: the labelled digits alone. The encoder learnt from all 60,000 digits without their "
            "labels (SimCLR: two distortions of a digit should look alike to it); a linear read-out then learns "
            "the labels; FixMatch also lets the unlabelled digits teach, through the label the network is sure of; "
            "propagation spreads the few labels from neighbour to neighbour in the encoder's features to every "
            "digit, then learns from them. Your runs are stars."
        )
    )

elif part == "map":
    figure = lab.map_chart()
    if figure is None:
        st.info(_("The map is not shipped here: `python -m scripts.labels_sweep` makes it."))
    else:
        st.plotly_chart(figure, width="stretch", key="labels_map")
        st.caption(
            _(
                "2,000 test digits, each placed by its 128 encoder features (t-SNE, computed ahead), coloured by "
                "the digit it is. The encoder never saw a label, yet digits of a kind land together: a few labels "
                "only have to name the groups."
            )
        )

else:
    whose = st.segmented_control(
        _("Whose digits"), list(WHOSE), format_func=lambda w: _(WHOSE[w]),
        default="room" if st.query_params.get("with") == "room" else "mine", required=True, key="labels_whose",
    )  # fmt: skip
    if whose == "room":
        lab.room_grid()
    else:
        how_column, count_column, seed_column = st.columns([3, 2, 1])
        how = how_column.segmented_control(
            _("Who chooses the digits"), list(CHOICES), format_func=lambda c: _(CHOICES[c]), default="typical",
            required=True, key="labels_how",
        )  # fmt: skip
        count = count_column.select_slider(_("Digits to label"), lab.SIZES, value=20, key="labels_count")
        seed = int(seed_column.number_input(_("Seed"), 0, 9999, 0, key="labels_seed"))
        given = lab.label_grid(lab.offered(how, count, seed), key=f"label_{how}_{seed}")
        st.caption(
            _("{given} of {count} labelled. A wrong label is yours to give: it is learnt as given.").format(
                given=len(given), count=count
            )
        )
        method_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
        method = method_column.selectbox(
            _("Method"), list(METHODS), index=list(METHODS).index(BEST), format_func=lambda m: _(METHODS[m]),
            key="labels_method",
        )  # fmt: skip
        running = bool(st.session_state.get("labels_job") and st.session_state.labels_job.running)
        if button_column.button(
            _("Train on my labels"), type="primary", icon=":material/model_training:", disabled=running or not given
        ):
            lab.start(given, method)
    lab.live()
    if own:
        labels, accuracy, _method = own[-1]
        baseline = lab.random_20()
        st.metric(
            _("Your {count} labels: test accuracy").format(count=labels),
            f"{accuracy:.1%}",
            None if baseline is None or labels != 20 else
            _("{change} points against 20 at random").format(change=f"{(accuracy - baseline) * 100:+.1f}"),
            border=True,
        )  # fmt: skip
        st.caption(_("It joined your models: pick it in the sidebar to draw with it."))
