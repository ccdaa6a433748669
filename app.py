"""Digit Lab: the router and frame shared by every page."""

import streamlit as st

from core.runs.runtime import cap_malloc_arenas

cap_malloc_arenas()  # before TensorFlow starts its threads, each of which would grow an arena of memory

import ui  # noqa: E402  (after the malloc cap)
from core.i18n import _  # noqa: E402
from core.pages import PAGES, SECTIONS  # noqa: E402

ui.keep_keras_session()  # Streamlit would clear Keras after every run: a third of a busy server's time
ui.keep_file_watchers_off()  # Streamlit would watch a reconnected session's sources: seconds of its event loop
ui.guard_widgets()  # a scripted client's NaN or unknown choice would fail before or inside a page
language = ui.choose_language()  # before any word is shown: every message after this is in the visitor's language

st.set_page_config(
    page_title="Digit Lab",
    page_icon="✏️",
    layout="wide",
    initial_sidebar_state="collapsed" if ui.presenting() else "auto",
)
# Phones first: the reading above the canvas, a canvas as wide as the screen, thumb-sized buttons.
st.html(ui.PHONE_STYLE)

ui.input_notice()
ui.arrived()  # the session's start: the room's wall takes a share only a few seconds after it
if ui.moved_here():  # the server this visitor was on stopped; the proxy sent their browser here
    st.warning(
        _(
            "Digit Lab moved you to another server because the one you were on stopped. What you made there "
            "(drawings, trained or uploaded models, runs) did not come with you: start again here."
        ),
        icon=":material/swap_horiz:",
    )

sections = ui.once_a_session(  # the navigation from the page registry, in the visitor's language
    f"pages_{language}",
    lambda: {
        _(section): [
            st.Page(page.file, title=_(page.title), icon=page.icon, default=page.default)
            for page in PAGES
            if page.section == section
        ]
        for section in SECTIONS
    },
)
# The pages live in app_pages/, not pages/: Streamlit treats a folder named pages/ as its legacy
# multipage layout and would run a deep-linked page (/train) without this script around it.
page = st.navigation(sections, position="hidden")
name = page.url_path or "draw"  # the default page's path is empty
ui.follow_first(name)  # a following phone the presenter moved leaves this page before more of it is laid out
ui.page_ran(name)  # for the presenter's pre-talk check
st.sidebar.title("Digit Lab")
ui.model_picker()  # first: the network every page uses, in reach at any window height
if ui.following():  # the talk chooses a follower's page; without the links its every move costs the server less
    st.sidebar.caption(_("You follow the talk: its chapter is your page. Stop following to open any page."))
else:
    for section, links in sections.items():
        st.sidebar.caption(section)
        for link in links:
            st.sidebar.page_link(link)
    with ui.error_boundary("the sidebar"):
        ui.model_upload()
ui.language_picker()
st.sidebar.caption(_("MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0)."))
with ui.error_boundary("the talk"):
    if ui.presenting():  # the talk's bar on every page: its chapter, takeaway, next and previous, the join code
        ui.presenter_bar(name)
    else:
        ui.follower_bar()  # a phone that joined by the QR code follows the presenter's chapters
with ui.room_waits(), ui.error_boundary(page.title):  # the room runs the chapter after the projector; no tracebacks
    page.run()
if ui.presenting():
    ui.warm_charts()
ui.keep_presenter_token()
ui.freeze_what_is_loaded()  # once: the garbage collector stops walking the libraries and the shipped model
