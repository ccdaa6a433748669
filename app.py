"""Digit Lab: the router and frame shared by every page."""

import streamlit as st

import ui

st.set_page_config(page_title="Digit Lab", page_icon="✏️", layout="wide")

pages = [
    st.Page("pages/draw.py", title="Draw", icon="✏️", default=True),
    st.Page("pages/evaluate.py", title="Evaluate", icon="🧮"),
]
page = st.navigation(pages)
st.sidebar.title("Digit Lab")
ui.model_picker()
st.sidebar.caption("MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0).")
page.run()
