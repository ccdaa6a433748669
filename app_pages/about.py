"""About page: what Digit Lab is made of, the shipped models' cards, the data's credit, this server's limits."""

import streamlit as st

import ui
from core.about import host, limits, versions
from core.models import SHIPPED_MODELS
from core.runs.host import HOST

st.title("About Digit Lab")
st.markdown(
    "Digit Lab lets you draw a digit and watch a neural network read it, retrain that network in your "
    "browser, see where it goes wrong and why. Everything runs on this server with data and models that "
    "ship with the app: nothing you draw, upload or train is seen by other visitors (unless you share a drawing "
    "with the room), and it is gone when you close the tab."
)

st.subheader("Giving a talk")
st.markdown(
    "Open the **[presenter view](./?talk=1)** on the projector: a large canvas, a reading readable from the back of "
    "the hall, and a QR code of this app's address (set `DIGITLAB_PUBLIC_URL` if the audience reaches it by another "
    "name). The audience draws along on their phones and may share drawings with the **Room** page, the speaker's "
    "live wall; `DIGITLAB_PRESENTER_KEY` lets the speaker clear it or hide a drawing. Nothing needs the internet."
)

st.subheader("The data")
st.markdown(
    "**MNIST**, by Yann LeCun, Corinna Cortes and Christopher J. C. Burges: 60,000 training and 10,000 "
    "test digits, written by American Census Bureau employees and high-school students, size-normalised "
    "to 20×20 and centred in 28×28. Licensed under [CC BY-SA 3.0]"
    "(https://creativecommons.org/licenses/by-sa/3.0/); the app ships a copy in `assets/mnist.npz`."
)

st.subheader("The shipped models")
for label in SHIPPED_MODELS:
    card = ui.shipped_model_card(label)
    seconds = card["training_seconds"]
    took = f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"
    with st.expander(f"{label}: {card['test_accuracy']:.2%} on the test digits, {card['parameters']:,} parameters"):
        trust = ui.calibration(label)
        st.markdown(
            f"Trained on {card['trained_on']} in {took} on 2 CPU cores. "
            f"{card['test_errors']} of the 10,000 test digits are misread. Calibration error (ECE, 15 bins) "
            f"{trust.ece_before:.2%}, {trust.ece_after:.2%} at its temperature {trust.temperature:.2f}."
        )
        st.json(card, expanded=1)

st.subheader("This server")
st.markdown("**Versions**")
st.dataframe([{"package": name, "version": version} for name, version in versions().items()], hide_index=True)
st.markdown("**Limits**, set by environment variables")
st.dataframe(limits(), hide_index=True, width="stretch")  # full width: the variables' names are long
st.markdown(
    f"**The host**: {HOST.memory_mb / 1024:.2f} GB of memory ({HOST.memory_from}) and {HOST.cpus:g} cores "
    f"({HOST.cpus_from}), as this server read them at start (`DIGITLAB_MEMORY_LIMIT` and `DIGITLAB_CPUS` override). "
    f"The server and all its runs keep within {HOST.budget_mb / 1024:.2f} GB: a run starts only when it fits beside "
    "what is running; otherwise it waits in line, and one that could never fit is refused."
)
st.dataframe(host(), hide_index=True)
