"""Teach page: teach the network new symbols, or your own handwriting, from a few drawings (transfer learning)."""

import streamlit as st

import ui
from core.i18n import _
from ui.teach import handwriting, symbols

st.title(_("Teach"))
ui.require_gradients("Teach")
st.caption(
    _(
        "A network that reads digits has learnt strokes, loops and corners. Reuse them: teach it symbols of your own, "
        "or your handwriting, from a handful of drawings. Everything here stays in your session."
    )
)
symbols_tab, handwriting_tab = st.tabs([_("New symbols"), _("My handwriting")])

with symbols_tab:
    symbols()
with handwriting_tab:
    handwriting()
