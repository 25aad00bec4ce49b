"""Compare: the chapter's 15 vs 45 minutes vs the 5M budget, your own variants, and the three policies."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from budget.charts import overlay_health_chart
from budget.compare import CHAPTER_VARIANTS, POLICY_VARIANTS, RETURN_VARIANTS, Variant, run_variants
from budget.errors import BudgetError
from budget.scenario import ROUTING_POLICIES
from budget.spec import spec_from_text
from budget.workbench import read_spec_text, shipped_specs

st.set_page_config(page_title="Compare", page_icon=":material/savings:", layout="wide")
ss = st.session_state


@st.cache_data(show_spinner=False, max_entries=32)
def compare(
    variants: tuple[Variant, ...], spec_texts: tuple[tuple[str, str], ...]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    specs = {name: spec_from_text(text, f"specs/{name}") for name, text in spec_texts}
    return run_variants(list(variants), specs)


def spec_texts(variants: list[Variant]) -> tuple[tuple[str, str], ...]:
    return tuple((n, read_spec_text(n)) for n in sorted({v.spec for v in variants}))


TWO_DECIMALS = st.column_config.NumberColumn(format="%.2f")


def show_runs(rows: list[dict[str, Any]], runs: dict[str, Any], columns: list[str] | None, title: str) -> None:
    """A table of runs (token_health_min and the like to two decimals) and their curves overlaid."""
    table = pd.DataFrame(rows)
    if columns is not None:
        table = table[columns]
    config = {c: TWO_DECIMALS for c in ("token_health_min", "second_dip", "predicted") if c in table}
    if "prediction_error" in table:
        config["prediction_error"] = st.column_config.NumberColumn(format="%+.2f")
    if "check" in table:
        config["check"] = st.column_config.TextColumn(width="medium")
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    st.altair_chart(overlay_health_chart(runs, title=title), width="stretch", height=420)


ss.setdefault("cmp_variants", [])

st.title("Compare")
st.caption(
    "Runs side by side. Predict token_health_min before you run a variant; the table puts your "
    "prediction beside the actual value."
)

st.subheader("The chapter: 15 min vs 45 min vs the 5M budget")
rows, results = compare(CHAPTER_VARIANTS, spec_texts(list(CHAPTER_VARIANTS)))
show_runs(
    rows,
    results,
    ["variant", "failover", "degraded", "manual", "token_health_min", "mttr_p95_s", "guard", "check holds", "check"],
    "token_health: 15 vs 45 minutes vs 5M (minutes from 11:00)",
)

st.subheader("Your variants")
with st.form("w_cmp_form", clear_on_submit=False):
    fc = st.columns(4)
    specs = shipped_specs()
    plan = fc[0].selectbox("plan", specs, key="w_cmp_plan")
    duration = fc[1].number_input("outage (min)", value=60, step=5, key="w_cmp_duration")
    queue = fc[2].number_input("queue (incidents)", value=40, step=1, key="w_cmp_queue")
    timeout = fc[3].number_input("manual timeout (s)", value=60, step=10, key="w_cmp_timeout")
    fc = st.columns(4)
    policy = fc[0].selectbox("policy", ROUTING_POLICIES, key="w_cmp_policy")
    predicted = fc[1].number_input(
        "your predicted token_health_min", min_value=0.0, max_value=1.0, value=0.5, step=0.01, key="w_cmp_predicted"
    )
    label = fc[2].text_input("label", value="", key="w_cmp_label", placeholder="e.g. queue 40, 60 min")
    if st.form_submit_button("Add variant and run"):
        name = label.strip() or f"{plan.removesuffix('.yaml')}, {duration} min, queue {queue}, {timeout}s, {policy}"
        v = Variant(
            name,
            spec=plan,
            duration_min=int(duration),
            queue=int(queue),
            manual_timeout_sec=float(timeout),
            policy=policy,
            predicted_floor=float(predicted),
        )
        try:
            compare((v,), spec_texts([v]))  # validate before keeping it
            ss["cmp_variants"] = [x for x in ss["cmp_variants"] if x.label != name] + [v]
        except BudgetError as exc:
            st.error(str(exc), icon=":material/error:")

variants: list[Variant] = ss["cmp_variants"]
if variants:
    vrows, vresults = compare(tuple(variants), spec_texts(variants))
    show_runs(vrows, {**results, **vresults}, None, "token_health: the chapter's runs and yours")
    if st.button("Clear my variants", key="w_cmp_clear"):
        ss["cmp_variants"] = []
        st.rerun()
else:
    st.info("Add a variant: the chapter suggests queue 40, 60 minutes, a 60 s manual timeout. Predict first.")

st.subheader("The three policies on the 45-minute outage")
prows, presults = compare(POLICY_VARIANTS, spec_texts(list(POLICY_VARIANTS)))
show_runs(
    prows,
    presults,
    ["variant", "failover", "degraded", "manual", "token_health_min", "mttr_p95_s", "P0/P1 SLA breaches", "guard"],
    "ranked vs all_to_frontier vs hold_all",
)
st.caption(
    "all_to_frontier spends the expensive tier's whole day; hold_all keeps token_health but every P0/P1 "
    "breaches its SLA; ranked protects both."
)

st.subheader("Bringing local-coder back: immediate vs staged return")
rrows, rresults = compare(RETURN_VARIANTS, spec_texts(list(RETURN_VARIANTS)))
show_runs(
    rrows,
    rresults,
    ["variant", "degraded", "token_health_min", "second_dip", "relapses", "mttr_p95_s"],
    "local-coder down 30 min, queue 40: return immediate vs staged",
)
st.caption(
    "An immediate full return floods the recovering tier with the whole backlog; it fails again and "
    "token_health dips a second time. The staged return (30% for triage/classification, 60% after three "
    "stable windows, full after the audit) drains the backlog without a second cascade."
)
