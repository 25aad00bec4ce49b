"""Home: what the workbench is, and the README's exercises, in its order, as a one-click checklist."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from budget.errors import BudgetError
from budget.workbench import EXERCISES, run_exercise, run_transcript, scenarios_dir, specs_dir, value_with_unit

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
ss.setdefault("exercise_printed", {})
runs = ss["exercise_runs"]
printed = ss["exercise_printed"]


def _run(keys: list[str]) -> None:
    """The exercises' checks (the engine) and what their commands print (the command line, run for real)."""
    with ThreadPoolExecutor(max_workers=1) as pool:  # the commands run in their own processes meanwhile
        commands = pool.submit(run_transcript, keys)
        for key in keys:
            try:
                runs[key] = run_exercise(key, specs_dir(), scenarios_dir())
            except BudgetError as exc:
                runs[key] = str(exc)
        try:
            printed.update(commands.result())
        except BudgetError as exc:
            printed.update(dict.fromkeys(keys, str(exc)))


top = st.columns([1, 3])
if top[0].button(
    "Run all exercises",
    key="home_run_all",
    type="primary",
    help="runs every check and every command of the README; exercise 8 sweeps 220 variants",
):
    with st.spinner("Running the exercises and their commands (exercise 8 sweeps 220 variants)…"):
        _run([ex.key for ex in EXERCISES])
done = sum(1 for ex in EXERCISES if not isinstance(runs.get(ex.key), (str, type(None))) and runs[ex.key].ok)
top[1].progress(done / len(EXERCISES), text=f"{done} of {len(EXERCISES)} exercises pass")
st.caption(
    "The commands run for real, in a scratch copy of the project: your out/ folder and capstone note are left "
    "as they are. Type them in a terminal (the README's order) to keep their files."
)

for ex in EXERCISES:
    run = runs.get(ex.key)
    with st.container(border=True):
        head = st.columns([6, 1])
        if head[1].button("Run", key=f"home_run_{ex.key}"):
            with st.spinner("Running…"):
                _run([ex.key])
            run = runs[ex.key]
        if run is None:
            mark = ":material/radio_button_unchecked:"
        elif isinstance(run, str) or not run.ok:
            mark = ":red[:material/cancel:]"
        else:
            mark = ":green[:material/check_circle:]"
        number = f"{ex.number}. " if ex.number else ""
        head[0].markdown(f"{mark} **{number}{ex.title}** · _{ex.complexity}_")
        # inline code, not a code block: a code block's highlighter (1.5 MB of browser code) would be most of
        # Home's first visit; the pages that show code load it
        st.markdown("  \n".join(f"`{c}`" for c in ex.commands))
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
        said = printed.get(ex.key)
        if isinstance(said, str):
            st.error(said, icon=":material/error:")
        elif said:
            with st.expander("What the commands printed", expanded=True):
                st.code("\n\n".join(p.text() for p in said), language=None, wrap_lines=True)
        if run is not None and ex.page:
            st.page_link(
                ex.page,
                label=f"Take it further on its page ({ex.section})" if ex.section else "Take it further on its page",
                icon=":material/arrow_forward:",
                query_params={"section": ex.section} if ex.section else None,
            )

st.caption("The model, every formula and constant, is documented in docs/model.md.")
