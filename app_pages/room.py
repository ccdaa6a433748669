"""Room page: the drawings visitors chose to share, live, and how the network does on the room's handwriting."""

import streamlit as st

import ui
from core.plots import confusion_heatmap, room_wall
from core.room import CAPACITY, HARDEST_MIN_DRAWINGS

WALL_SIZE = 60  # newest drawings shown
REFRESH_SECONDS = 1.0  # a share reaches the wall within ~1 s plus the drawing; 2 s missed 3 s on a loaded machine

st.title("The room")
st.caption(
    "Drawings visitors chose to share from the Draw page, anonymous, newest first, with what the network read: green "
    f"when it read what they meant. Kept in this server's memory only, the last {CAPACITY}."
)
room = ui.room()


@st.fragment(run_every=REFRESH_SECONDS)
@ui.error_boundary("the room's wall")
def wall() -> None:
    """The wall, redrawn every second for everyone watching."""
    summary = room.summary()
    shared, accuracy = st.columns(2)
    shared.metric("Drawings shared", summary.count, border=True)
    accuracy.metric("Read as meant", f"{summary.accuracy:.0%}" if summary.accuracy is not None else "–", border=True)
    if not summary.count:
        st.info("Nothing shared yet. Draw a digit on the Draw page and press Share with the room.",
                icon=":material/groups:")  # fmt: skip
        return
    st.html(room_wall(room.latest(WALL_SIZE)))
    matrix, hardest = st.columns([1.4, 1], gap="large")
    with matrix:
        st.markdown("**The room's confusion matrix**: rows what was meant, columns what the network read.")
        st.plotly_chart(confusion_heatmap(summary.confusion, dim_diagonal=False), width="stretch", key="room_matrix")
    with hardest:
        st.markdown("**The room's hardest digits**")
        if not summary.hardest:
            st.caption(f"Once a digit has been shared {HARDEST_MIN_DRAWINGS} times, its accuracy shows here.")
        for digit, right, count in summary.hardest[:5]:
            st.progress(right, f"{digit}: {right:.0%} of {count} read right")


wall()

mine = room.mine(ui.visitor_token())
if mine:
    st.subheader("Your shared drawings")
    for share in mine:
        if st.button(f"Take back #{share.number} (read {share.read})", key=f"take_back_{share.number}"):
            room.take_back(ui.visitor_token(), share.number)
            st.rerun()

with st.expander("Presenter", icon=":material/co_present:"):
    key = st.text_input("Presenter key", type="password", help="Set by the server's DIGITLAB_PRESENTER_KEY.")
    if key and not ui.presenter(key):
        st.error("That is not the presenter key.")
    elif ui.presenter(key):
        clear, hide = st.columns(2)
        if clear.button("Clear the wall", icon=":material/delete_sweep:", type="primary", width="stretch"):
            room.clear()
            st.rerun()
        number = hide.number_input("Drawing #", min_value=1, step=1, key="hide_number")
        if hide.button("Hide it", icon=":material/visibility_off:", width="stretch"):
            st.toast("Hidden." if room.hide(int(number)) else f"No drawing #{number} on the wall.")
