"""Digit Lab: the router and frame shared by every page."""

import streamlit as st

import ui

st.set_page_config(page_title="Digit Lab", page_icon="✏️", layout="wide")

pages = [
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/grid_on:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/lightbulb:"),
]
# Our own links instead of Streamlit's automatic menu, which can briefly list the files in
# pages/ (app, draw, evaluate) before this script has run.
page = st.navigation(pages, position="hidden")
st.sidebar.title("Digit Lab")
for link in pages:
    st.sidebar.page_link(link)
ui.model_picker()
st.sidebar.caption("MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0).")
page.run()
