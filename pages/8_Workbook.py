"""Workbook: every run as the command and its output, beside what it means for your project; kept per learner."""

from __future__ import annotations

import streamlit as st

from ui import work, workbook_download, workbook_pair

st.title("Workbook")
book = work()
where = (
    f"kept under the name **{book.learner}** (sidebar) across reloads and restarts"
    if book.saved
    else "kept in memory for this session only (see the sidebar)"
)
st.caption(
    "The chapter's two columns: left, the command and its output (the CLI gives the same); right, your "
    "interpretation. Each run on the Simulator, Compare, Drill and Calibrate pages adds an entry; editing the "
    f"Simulator's query updates its run's entry. The workbook is {where}. Download it to write "
    "capstone/budget-note.md from it."
)


def _delete(entry_id: int) -> None:
    work().delete(entry_id)
    st.session_state.pop(f"w_wb_{entry_id}", None)


entries = book.entries
if not entries:
    st.info("No runs yet: run a simulation, a variant, a drill or a sweep, then come back.")
else:
    workbook_download(f"Download the workbook ({len(entries)} runs, Markdown)", "w_wb_download", primary=True)
    for n, entry in enumerate(entries, 1):
        with st.container(border=True):
            head = st.columns([6, 1])
            head[0].markdown(f"**{n}. {entry.title}** · {entry.page}")
            head[1].button(
                "Delete",
                key=f"w_wb_delete_{entry.id}",
                icon=":material/delete:",
                type="tertiary",
                on_click=_delete,
                args=(entry.id,),
                help="Remove this entry from your workbook",
            )
            workbook_pair(entry, on_workbook_page=True)
