"""Workbook: every run of this session as the command and its output, beside what it means for your project."""

from __future__ import annotations

import streamlit as st

from ui import workbook, workbook_download, workbook_pair

st.title("Workbook")
st.caption(
    "The chapter's two columns: left, the command and its output (the CLI gives the same); right, your "
    "interpretation. Each run on the Simulator, Compare, Drill and Calibrate pages adds an entry. It is kept "
    "for this session: download it to keep it and to write capstone/budget-note.md from it."
)

book = workbook()
if not book.entries:
    st.info("No runs yet: run a simulation, a variant, a drill or a sweep, then come back.")
else:
    workbook_download(f"Download the workbook ({len(book.entries)} runs, Markdown)", "w_wb_download", primary=True)
    for entry in book.entries:
        with st.container(border=True):
            st.markdown(f"**{entry.id}. {entry.title}** · {entry.page}")
            workbook_pair(entry)
