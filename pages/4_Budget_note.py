"""Budget note: one case of capstone/budget-note.md, prefilled from the last simulation."""

from __future__ import annotations

import streamlit as st

from budget.errors import BudgetError
from budget.keeper import health_text, simulate
from budget.model import load_scenario
from budget.workbench import (
    DEFAULT_DECISION,
    DEFAULT_SCENARIO,
    DEFAULT_SPEC,
    SHIPPED,
    entry_from_result,
    merge_note,
    note_cases,
    note_path,
    render_section,
    scenarios_dir,
    write_note,
)
from ui import current, need_spec, workbook, workbook_download

ss = st.session_state
FLOOR = 0.5

st.title("Budget note")
path = note_path()
st.caption(
    f"Writes one section per case into `{path.relative_to(path.parents[1])}` (yours: git ignores it); other "
    "cases stay as they are. `capstone/README.md` explains the five fields."
)

result = ss.get("last_result")
if result is None:
    spec = need_spec()
    if spec is None:
        st.stop()
    result = simulate(spec, load_scenario(scenarios_dir() / DEFAULT_SCENARIO, spec), include_decisions=False).to_dict()
    cur = current()
    whose = "the textbook's" if cur.name == DEFAULT_SPEC and cur.state == SHIPPED else "the"  # its plan, as shipped
    st.info(f"No simulation in this session yet: prefilled from {whose} 45-minute outage on {cur.name}.")
else:
    st.info(f"Prefilled from the last simulation: {ss.get('last_result_label', 'Simulator')}.")

base = entry_from_result(result, "high_memory_usage") if result["token_health_min"] < 1 else None
floor = float(result["token_health_min"])
c = st.columns([2, 3])
case = c[0].text_input("case", value=ss.get("note_case", "high_memory_usage"), key="w_note_case")
ss["note_case"] = case
risk = c[1].text_input("risk", value=base.risk if base else "", key="w_note_risk")
effect = st.text_input("effect", value=base.effect if base else "", key="w_note_effect")
c2 = st.columns(3)
c2[0].metric("simulated_floor (from the run, 0-1)", health_text(floor))
threshold = c2[1].number_input(
    "alert_threshold",
    min_value=0.0,
    max_value=1.0,
    value=float(result.get("alert_threshold", 0.6)),
    step=0.01,
    key="w_note_threshold",
)
if threshold > floor >= FLOOR:
    c2[2].warning(
        f"Warning zone: {health_text(floor)} <= token_health_min < {threshold:.2f}. Between the observed floor and the "
        "guard the system still works but needs an operator's attention."
    )
elif threshold > floor:
    c2[2].error(
        f"The run fell to {health_text(floor)}, below the {FLOOR:.2f} floor: not a warning zone but a plan that "
        "fails this outage. Record it as such, or fix the plan first."
    )
decision = st.text_input("decision", value=DEFAULT_DECISION, key="w_note_decision")

entry = None
try:
    entry = entry_from_result(result, case, risk=risk, effect=effect, alert_threshold=threshold, decision=decision)
except BudgetError as exc:
    st.error(str(exc), icon=":material/error:")

if entry is not None:
    st.subheader("Preview")
    st.markdown(render_section(entry))
    exists = entry.case in note_cases(path)
    replace = False
    if exists:
        replace = st.checkbox(f"The note already has a case {entry.case!r}: replace it", key="w_note_replace")
    if st.button(
        "Write to capstone/budget-note.md", key="w_note_write", type="primary", disabled=exists and not replace
    ):
        try:
            write_note(path, entry, replace=replace)
            st.success(f"wrote case {entry.case!r} to capstone/budget-note.md")
        except BudgetError as exc:
            st.error(str(exc), icon=":material/error:")
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        preview = merge_note(existing, entry, replace=True)
        st.download_button(
            "Download the note with this case",
            preview,
            file_name="budget-note.md",
            mime="text/markdown",
            key="w_note_download",
        )
    except (BudgetError, OSError) as exc:
        st.error(str(exc), icon=":material/error:")

if path.exists():
    on_disk = path.read_text(encoding="utf-8", errors="replace")
    st.download_button(
        "Download capstone/budget-note.md as it is",
        on_disk,
        file_name="budget-note.md",
        mime="text/markdown",
        key="w_note_disk_download",
    )
    with st.expander("The note as it is on disk"):
        st.markdown(on_disk)

book = workbook()
if book.entries:
    workbook_download(f"Download your workbook ({len(book.entries)} runs) to write the note from", "w_note_workbook")
