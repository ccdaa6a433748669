"""About page: what Digit Lab is made of, the shipped models' cards, the data's credit, this server's limits."""

import streamlit as st

import ui
from core.about import host, limits, versions
from core.follow import Stage
from core.i18n import _, translated
from core.models import SHIPPED_MODELS
from core.runs.host import HOST

st.title(_("About Digit Lab"))
st.markdown(
    _(
        "Digit Lab lets you draw a digit and watch a neural network read it, retrain that network in your "
        "browser, see where it goes wrong and why. Everything runs on this server with data and models that "
        "ship with the app: nothing you draw, upload or train is seen by other visitors (unless you share a drawing "
        "with the room), and it is gone when you close the tab."
    )
)

st.subheader(_("Giving a talk"))
st.markdown(
    _(
        "Open the **[presenter view](./?talk=1)** on the projector: a large canvas, a reading readable from "
        "the back of "
        "the hall, and a QR code of this app's address (set `DIGITLAB_PUBLIC_URL` if the audience reaches it "
        "by another "
        "name). The audience draws along on their phones and may share drawings with the **Room** page, the speaker's "
        "live wall; `DIGITLAB_PRESENTER_KEY` lets the speaker clear it or hide a drawing. Nothing needs the internet."
    )
)

st.subheader(_("The data"))
st.markdown(
    _(
        "**MNIST**, by Yann LeCun, Corinna Cortes and Christopher J. C. Burges: 60,000 training and 10,000 "
        "test digits, written by American Census Bureau employees and high-school students, size-normalised "
        "to 20×20 and centred in 28×28. Licensed under [CC BY-SA 3.0]"
        "(https://creativecommons.org/licenses/by-sa/3.0/); the app ships a copy in `assets/mnist.npz`."
    )
)

st.subheader(_("The shipped models"))
for label in SHIPPED_MODELS:
    card = ui.shipped_model_card(label)
    seconds = card["training_seconds"]
    took = (
        _("{count:.0f} seconds").format(count=seconds)
        if seconds < 120
        else _("{count:.0f} minutes").format(count=seconds / 60)
    )
    trained_on = card["trained_on"]
    with st.expander(
        _("{label}: {card:.2%} on the test digits, {card2:,} parameters").format(
            label=ui.model_name(label), card=card["test_accuracy"], card2=card["parameters"]
        )
    ):
        trust = ui.calibration(label)
        st.markdown(
            _(
                "Trained on {card} in {took} on 2 CPU cores. {card2} of the 10,000 test digits are misread. "
                "Calibration error (ECE, 15 bins) {ece_before:.2%}, {ece_after:.2%} at its temperature "
                "{temperature:.2f}."
            ).format(
                card=translated(trained_on),
                took=took,
                card2=card["test_errors"],
                ece_before=trust.ece_before,
                ece_after=trust.ece_after,
                temperature=trust.temperature,
            )
        )
        st.json(translated(card), expanded=1)

st.subheader(_("This server"))
st.markdown(_("**Versions**"))
st.dataframe([{"package": name, "version": version} for name, version in versions().items()], hide_index=True)
st.markdown(_("**Limits**, set by environment variables"))
limit_columns = {"limit": _("limit"), "value": _("value"), "variable": _("variable")}
st.dataframe(
    limits(),
    hide_index=True,
    width="stretch",
    column_config={name: st.column_config.Column(words) for name, words in limit_columns.items()},
)  # full width: the variables' names are long
st.markdown(
    _(
        "**The host**: {value:.2f} GB of memory ({memory_from}) and {cpus:g} cores ({cpus_from}), as "
        "this server read them at start (`DIGITLAB_MEMORY_LIMIT` and `DIGITLAB_CPUS` override). The "
        "server and all its runs keep within {value2:.2f} GB: a run starts only when it fits beside what "
        "is running; otherwise it waits in line, and one that could never fit is refused."
    ).format(
        value=HOST.memory_mb / 1024,
        memory_from=_(HOST.memory_from),
        cpus=HOST.cpus,
        cpus_from=_(HOST.cpus_from),
        value2=HOST.budget_mb / 1024,
    )
)
host_columns = {"what": _("what"), "value": _("value"), "from": _("from")}
st.dataframe(
    host(), hide_index=True, column_config={name: st.column_config.Column(w) for name, w in host_columns.items()}
)
st.markdown(
    _(
        "**A talk's hall**: on 2 cores one server brings about {phones} following phones to each new chapter within "
        "6 s; an idle phone costs it nothing, as the server tells the phones when the presenter moves. For a larger "
        "hall, run more servers behind the proxy, sharing the talk's stage (`DIGITLAB_STAGE`, docs/deploy.md): the "
        "pre-talk check counts the phones and the servers and says when the room outgrows them."
    ).format(phones=Stage.PHONES_PER_SERVER)
)
