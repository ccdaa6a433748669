"""Privacy page: what a network gives away about its training digits, and what differential privacy costs."""

import dataclasses

import streamlit as st

import ui
import ui.privacy
from core.figures.privacy import accuracy_by_epsilon, membership_roc
from core.i18n import N_, _
from core.jobs.membership import CanaryJob
from core.membership import MEMBERS, PASSES
from core.privacy import DELTA, shipped_sweep
from core.training.budget import estimate
from core.training.config import CHOICES, PRESETS

PARTS = {"cost": N_("What privacy costs"), "leak": N_("What it gives away"), "canary": N_("Will it remember you?")}

st.title(_("Privacy"))
st.caption(
    _(
        "A network can give away the digits it learnt from. Differential privacy bounds what any one "
        "digit can change in training: ε says how much (at δ = {DELTA:g}), and it costs accuracy."
    ).format(DELTA=DELTA)
)
part = ui.chosen_part(PARTS, "cost")
sweep = shipped_sweep()

if part == "cost":
    st.plotly_chart(ui.chart(accuracy_by_epsilon, sweep, ui.privacy.your_private_runs()), width="stretch")
    epsilon = st.select_slider(_("ε of your private run"), [e for e in CHOICES["dp_epsilon"] if e], value=3.0)
    config = dataclasses.replace(PRESETS["private"], dp_epsilon=epsilon)
    st.caption(
        _(
            "DP-SGD (Abadi et al. 2016): each digit's gradient clipped to {dp_clip:g}, Gaussian noise added "
            "to each batch of {batch_size}, {epochs} epochs, on Papernot et al.'s tanh CNN ({parameters:,} "
            "parameters). About {value:.0f} min here."
        ).format(
            dp_clip=config.dp_clip,
            batch_size=config.batch_size,
            epochs=config.epochs,
            parameters=estimate(config).network.parameters,
            value=estimate(config).seconds / 60,
        )
    )
    ui.training_button("privacy_job", _("Train privately"), config, icon=":material/lock:")
    ui.privacy.private_result()

elif part == "leak":
    if sweep is None or "membership" not in sweep:
        st.info(_("The membership attack's results are not shipped here: `python -m scripts.privacy_sweep`."))
    else:
        st.plotly_chart(ui.chart(membership_roc, sweep["membership"]), width="stretch")
        ui.privacy.twins_metrics(sweep["membership"])
    st.caption(
        _(
            "Two networks learn the same {MEMBERS:,} digits for {PASSES} epochs: one without privacy, one by "
            "DP-SGD. The attack (Yeom et al. 2018) calls a digit a member of the training set when the "
            "network's loss on it is low, and is scored on those {MEMBERS2:,} digits against {MEMBERS3:,} it "
            "never saw."
        ).format(MEMBERS=MEMBERS, PASSES=PASSES, MEMBERS2=MEMBERS, MEMBERS3=MEMBERS)
    )

else:
    st.caption(
        _(
            "Draw something and give it a label: it is planted once among {MEMBERS:,} training digits, and "
            "two networks learn them, one without privacy and one private. Does each remember your drawing "
            "better than {COPIES} slightly changed copies of it that were never planted?"
        ).format(MEMBERS=MEMBERS, COPIES=ui.privacy.COPIES)
    )
    ui.privacy.canary_controls(CanaryJob)
