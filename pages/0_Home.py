"""Home: what the workbench is, and the README's exercises, in its order, as a one-click checklist."""

from __future__ import annotations

import streamlit as st

from budget.errors import BudgetError
from budget.workbench import EXERCISES, run_exercise, scenarios_dir, specs_dir, value_with_unit

st.title("Token budget workbench")
st.markdown(
    "A cheap **local-coder** tier does the routine work of an incident pipeline and an expensive "
    "**frontier-reviewer** tier protects disputed and critical cases, under one daily token budget. "
    "When the cheap tier fails, the budget keeper fails over only the most dangerous tasks and sends the "
    "rest to the degraded queue and the manual channel, watching **token_health** against the 0.60 guard. "
    "Work through the exercises below in order (they are the README's), then use the pages on the left: "
    "the **current spec** in the sidebar is the one every page uses."
)

ss = st.session_state
ss.setdefault("exercise_runs", {})
runs = ss["exercise_runs"]


def _run(key: str) -> None:
    try:
        runs[key] = run_exercise(key, specs_dir(), scenarios_dir())
    except BudgetError as exc:
        runs[key] = str(exc)


top = st.columns([1, 3])
if top[0].button(
    "Run all exercises", key="home_run_all", type="primary", help="about 15 s: exercise 8 sweeps 220 variants"
):
    with st.spinner("Running the exercises (exercise 8 sweeps 220 variants, about 15 s)…"):
        for ex in EXERCISES:
            _run(ex.key)
done = sum(1 for ex in EXERCISES if not isinstance(runs.get(ex.key), (str, type(None))) and runs[ex.key].ok)
top[1].progress(done / len(EXERCISES), text=f"{done} of {len(EXERCISES)} exercises pass")

for ex in EXERCISES:
    run = runs.get(ex.key)
    with st.container(border=True):
        head = st.columns([6, 1])
        if head[1].button("Run", key=f"home_run_{ex.key}"):
            with st.spinner("Running…"):
                _run(ex.key)
            run = runs[ex.key]
        if run is None:
            mark = ":material/radio_button_unchecked:"
        elif isinstance(run, str) or not run.ok:
            mark = ":red[:material/cancel:]"
        else:
            mark = ":green[:material/check_circle:]"
        number = f"{ex.number}. " if ex.number else ""
        head[0].markdown(f"{mark} **{number}{ex.title}** · _{ex.complexity}_")
        st.code("\n".join(ex.commands), language="bash", wrap_lines=True)
        if isinstance(run, str):
            st.error(run, icon=":material/error:")
        elif run is not None:
            for c in run.outcome.clauses:
                text = f"`{c.text}` → actual **{value_with_unit(c.text, c.actual)}**"
                (st.success if c.ok else st.error)(
                    text, icon=":material/check_circle:" if c.ok else ":material/cancel:"
                )
            if ex.key == "note":
                st.markdown(run.data["section"])
        if run is not None and ex.page:
            st.page_link(ex.page, label="Take it further on its page", icon=":material/arrow_forward:")

st.caption("The model, every formula and constant, is documented in docs/model.md.")
