"""Home: what the workbench is, and the chapter's exercises as a one-click checklist."""

from __future__ import annotations

import streamlit as st

from budget.exercises import EXERCISES, run_exercise
from budget.query import format_value
from budget.workbench import scenarios_dir, specs_dir

st.set_page_config(page_title="Token budget workbench", page_icon=":material/savings:", layout="wide")

st.title("Token budget workbench")
st.markdown(
    "A cheap **local-coder** tier does the routine work of an incident pipeline and an expensive "
    "**frontier-reviewer** tier protects disputed and critical cases, under one daily token budget. "
    "When the cheap tier fails, the budget keeper fails over only the most dangerous tasks and sends the "
    "rest to the degraded queue and the manual channel, watching **token_health** against the 0.60 guard. "
    "Work through the chapter's exercises below, then use the pages on the left to edit specs, simulate "
    "outages, compare variants and write `capstone/budget-note.md`."
)

if "exercise_runs" not in st.session_state:
    st.session_state["exercise_runs"] = {}
runs = st.session_state["exercise_runs"]

top = st.columns([1, 3])
if top[0].button("Run all exercises", key="home_run_all", type="primary"):
    for ex in EXERCISES:
        runs[ex.key] = run_exercise(ex.key, specs_dir(), scenarios_dir())
done = sum(1 for ex in EXERCISES if ex.key in runs and runs[ex.key].ok)
top[1].progress(done / len(EXERCISES), text=f"{done} of {len(EXERCISES)} exercises pass")

for n, ex in enumerate(EXERCISES, 1):
    run = runs.get(ex.key)
    mark = (
        ":material/radio_button_unchecked:"
        if run is None
        else (":green[:material/check_circle:]" if run.ok else ":red[:material/cancel:]")
    )
    with st.container(border=True):
        head = st.columns([6, 1])
        if head[1].button("Run", key=f"home_run_{ex.key}"):
            run = runs[ex.key] = run_exercise(ex.key, specs_dir(), scenarios_dir())
            mark = ":green[:material/check_circle:]" if run.ok else ":red[:material/cancel:]"
        head[0].markdown(f"{mark} **{n}. {ex.title}** · _{ex.complexity}_")
        st.code("\n".join(ex.commands), language="bash", wrap_lines=True)
        if run is not None:
            for c in run.outcome.clauses:
                text = f"`{c.text}` → actual **{format_value(c.actual)}**"
                (st.success if c.ok else st.error)(
                    text, icon=":material/check_circle:" if c.ok else ":material/cancel:"
                )
            if ex.key == "note":
                st.markdown(run.data["section"])

st.caption("Pages: Spec editor · Simulator · Compare · Budget note. The model is documented in docs/model.md.")
