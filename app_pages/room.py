"""Room page: the drawings visitors chose to share, live, and how the network does on the room's handwriting."""

import streamlit as st

import ui
from core.room import CAPACITY, HARDEST_MIN_DRAWINGS

WALL_SIZE = 60  # newest drawings shown
REFRESH_SECONDS = 1.0  # how often an open Room page asks whether the wall changed
MATRIX_MIN_DRAWINGS = 10  # the room's confusion matrix is shown from this many shared drawings

st.title("The room")
st.caption(
    "Drawings visitors chose to share from the Draw page, anonymous, newest first, with what the network read: green "
    f"when it read what they meant. Kept in this server's memory only, the last {CAPACITY}."
)
room = ui.room()
if ui.presenting():  # the projector: the code large, for the phones still to join
    ui.join_panel(width=300 if ui.screen() == 1080 else 200)


@st.fragment(run_every=REFRESH_SECONDS)
def watch() -> None:
    """Every second: has the wall changed since this page drew it? Only then is the page drawn again.

    It draws nothing itself, so watching an unchanged wall costs the server next to nothing; a change reruns the
    page, whose wall comes from one render per version shared by every viewer.
    """
    if room.version != st.session_state.get("wall_drawn"):
        st.rerun()


@ui.error_boundary("the room's wall")
def wall() -> None:
    st.session_state.wall_drawn = room.version  # before reading it: a share that lands meanwhile reruns the page
    view = ui.wall_view(WALL_SIZE)
    summary = view.summary
    shared, accuracy = st.columns(2)
    shared.metric("Drawings shared", summary.count, border=True)
    accuracy.metric("Read as meant", f"{summary.accuracy:.0%}" if summary.accuracy is not None else "–", border=True)
    if not summary.count:
        st.info(
            "Nothing shared yet. Draw a digit on the Draw page and press Share with the room.", icon=":material/groups:"
        )
        return
    st.html(view.html)
    matrix, hardest = st.columns([1.4, 1], gap="large")
    with matrix:
        st.markdown("**The room's confusion matrix**: rows what was meant, columns what the network read.")
        if summary.count < MATRIX_MIN_DRAWINGS:  # a 10x10 grid of zeros around one drawing says nothing yet
            st.caption(f"It fills in once {MATRIX_MIN_DRAWINGS} drawings have been shared.")
        else:
            st.plotly_chart(view.confusion, width="stretch", key="room_matrix", config={"displayModeBar": False})
    with hardest:
        st.markdown("**The room's hardest digits**")
        if not summary.hardest:
            st.caption(f"Once a digit has been shared {HARDEST_MIN_DRAWINGS} times, its accuracy shows here.")
        for digit, right, count in summary.hardest[:5]:
            st.progress(right, f"{digit}: {right:.0%} of {count} read right")


wall()
watch()

mine = room.mine(ui.visitor_token())
if mine:
    st.subheader("Your shared drawings")
    for share in mine:
        if st.button(f"Take back #{share.number} (read {share.read})", key=f"take_back_{share.number}"):
            room.take_back(ui.visitor_token(), share.number)
            st.rerun()

with st.expander("Presenter", icon=":material/co_present:"):
    key = st.text_input(
        "Presenter key",
        type="password",
        help="DIGITLAB_PRESENTER_KEY, or the key the server printed to its log at start.",
    )
    allowed, refusal = ui.presenter(key)
    if refusal:
        st.error(refusal)
    if allowed:
        clear, hide = st.columns(2)
        if clear.button("Clear the wall", icon=":material/delete_sweep:", type="primary", width="stretch"):
            room.clear()
            st.rerun()
        number = hide.number_input("Drawing #", min_value=1, step=1, key="hide_number")
        if hide.button("Hide it", icon=":material/visibility_off:", width="stretch"):
            st.toast("Hidden." if room.hide(int(number)) else f"No drawing #{number} on the wall.")
        room.paused = st.toggle("Pause sharing", value=room.paused, help="The wall takes no drawings while paused.")
        authors = room.authors()
        if authors:  # a client address each, never shown: numbered by how much they shared
            names = {
                author: f"Sender {rank + 1}: {count} drawings" for rank, (author, count) in enumerate(authors.items())
            }
            author = st.selectbox("Drawings from one sender (one network address)", list(names), format_func=names.get)
            if st.button("Clear this sender's drawings", icon=":material/person_remove:"):
                st.toast(f"Removed {room.clear_author(author)} drawings.")
                st.rerun()
        ui.line_panel()
