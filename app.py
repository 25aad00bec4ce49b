"""The workbench's entry point: page names, titles and icons in one place, and the current spec in the sidebar.

Run: streamlit run app.py (``make run``). Every page is a file in pages/; this
script runs before each of them, so the sidebar (the current spec every page
uses, with its state) is drawn once, here.
"""

from __future__ import annotations

import streamlit as st

from ui import keep_current, preload, sidebar

st.set_page_config(page_title="Token budget workbench", page_icon="💰", layout="wide")

PAGES = [
    st.Page("pages/0_Home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Spec_editor.py", title="Spec editor", icon=":material/table_edit:"),
    st.Page("pages/2_Simulator.py", title="Simulator", icon=":material/play_circle:"),
    st.Page("pages/3_Compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/4_Budget_note.py", title="Budget note", icon=":material/edit_note:"),
    st.Page("pages/5_Drill.py", title="Drill", icon=":material/fitness_center:"),
    st.Page("pages/6_Calibrate.py", title="Calibrate", icon=":material/tune:"),
    st.Page("pages/7_Gateway.py", title="Gateway", icon=":material/verified_user:"),
    st.Page("pages/8_Workbook.py", title="Workbook", icon=":material/menu_book:"),
    st.Page("pages/9_Live_keeper.py", title="Live keeper", icon=":material/sensors:"),
]

page = st.navigation(PAGES)
sidebar()
page.run()
keep_current()  # the current spec, edits included, is there after a reload or a restart
preload()
