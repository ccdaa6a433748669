"""Room page: the drawings visitors chose to share, live, and how the network does on the room's handwriting."""

import streamlit as st

import ui
from core.i18n import _
from core.room import CAPACITY, HARDEST_MIN_DRAWINGS

WALL_SIZE = 60  # newest drawings shown
REFRESH_SECONDS = 1.0  # how often an open Room page asks whether the wall changed
MATRIX_MIN_DRAWINGS = 10  # the room's confusion matrix is shown from this many shared drawings

st.title(_("The room"))
st.caption(
    _(
        "Drawings visitors chose to share from the Draw page, anonymous, newest first, with what the "
        "network read: green when it read what they meant. Kept in this server's memory only, the last "
        "{CAPACITY}."
    ).format(CAPACITY=CAPACITY)
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
    shared.metric(_("Drawings shared"), summary.count, border=True)
    accuracy.metric(_("Read as meant"), f"{summary.accuracy:.0%}" if summary.accuracy is not None else "–", border=True)
    if not summary.count:
        st.info(
            _("Nothing shared yet. Draw a digit on the Draw page and press Share with the room."),
            icon=":material/groups:",
        )
        return
    st.html(view.html)
    matrix, hardest = st.columns([1.4, 1], gap="large")
    with matrix:
        st.markdown(_("**The room's confusion matrix**: rows what was meant, columns what the network read."))
        if summary.count < MATRIX_MIN_DRAWINGS:  # a 10x10 grid of zeros around one drawing says nothing yet
            st.caption(
                _("It fills in once {MATRIX_MIN_DRAWINGS} drawings have been shared.").format(
                    MATRIX_MIN_DRAWINGS=MATRIX_MIN_DRAWINGS
                )
            )
        else:
            st.plotly_chart(view.confusion, width="stretch", key="room_matrix", config={"displayModeBar": False})
    with hardest:
        st.markdown(_("**The room's hardest digits**"))
        if not summary.hardest:
            st.caption(
                _("Once a digit has been shared {HARDEST_MIN_DRAWINGS} times, its accuracy shows here.").format(
                    HARDEST_MIN_DRAWINGS=HARDEST_MIN_DRAWINGS
                )
            )
        for digit, right, count in summary.hardest[:5]:
            st.progress(
                right, _("{digit}: {share:.0%} of {count} read right").format(digit=digit, share=right, count=count)
            )


wall()
watch()

mine = room.mine(ui.visitor_token())
if mine:
    st.subheader(_("Your shared drawings"))
    for share in mine:
        if st.button(
            _("Take back #{number} (read {read})").format(number=share.number, read=share.read),
            key=f"take_back_{share.number}",
        ):
            room.take_back(ui.visitor_token(), share.number)
            st.rerun()

with st.expander(_("Presenter"), icon=":material/co_present:"):
    key = st.text_input(
        _("Presenter key"),
        type="password",
        help=_("DIGITLAB_PRESENTER_KEY, or the key the server printed to its log at start."),
    )
    allowed, refusal = ui.presenter(key)
    if refusal:
        st.error(refusal)
    if allowed:
        clear, hide = st.columns(2)
        if clear.button(_("Clear the wall"), icon=":material/delete_sweep:", type="primary", width="stretch"):
            room.clear()
            st.rerun()
        number = hide.number_input(_("Drawing #"), min_value=1, step=1, key="hide_number")
        if hide.button(_("Hide it"), icon=":material/visibility_off:", width="stretch"):
            st.toast(
                _("Hidden.") if room.hide(int(number)) else _("No drawing #{number} on the wall.").format(number=number)
            )
        room.paused = st.toggle(
            _("Pause sharing"), value=room.paused, help=_("The wall takes no drawings while paused.")
        )
        authors = room.authors()
        if authors:  # a client address each, never shown: numbered by how much they shared
            names = {
                author: _("Sender {number}: {count} drawings").format(number=rank + 1, count=count)
                for rank, (author, count) in enumerate(authors.items())
            }
            author = st.selectbox(
                _("Drawings from one sender (one network address)"), list(names), format_func=names.get
            )
            if st.button(_("Clear this sender's drawings"), icon=":material/person_remove:"):
                st.toast(_("Removed {author} drawings.").format(author=room.clear_author(author)))
                st.rerun()
        ui.line_panel()
