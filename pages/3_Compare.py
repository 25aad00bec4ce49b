"""Compare: the chapter's 15 vs 45 minutes vs the 5M budget, your own variants, and the three policies."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from budget.errors import BudgetError
from budget.keeper import health_text, simulate
from budget.model import ROUTING_POLICIES, scenario_from_dict, spec_from_text
from budget.workbench import (
    CHAPTER_VARIANTS,
    COMPARE_SECTIONS,
    POLICY_VARIANTS,
    RETURN_VARIANTS,
    Variant,
    explain_result,
    failure_command,
    overlay_health_chart,
    policy_sentence,
    read_spec_text,
    run_variants,
)
from ui import current, explanation, need_spec, spec_label, table, workbook, workbook_pair

ss = st.session_state
cur = current()


@st.cache_data(show_spinner=False, max_entries=32)
def compare(
    variants: tuple[Variant, ...], spec_texts: tuple[tuple[str, str], ...]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    specs = {name: spec_from_text(text, f"specs/{name}") for name, text in spec_texts}
    return run_variants(list(variants), specs)


Runs = tuple[tuple[Variant, ...], tuple[tuple[str, str], ...]]  # what compare() runs: variants, their plans' texts


@st.cache_data(show_spinner=False, max_entries=32)
def curves(runs: tuple[Runs, ...], title: str) -> Any:
    """The runs' token_health overlaid (built once per set of runs: some 50 ms a chart, on every visit)."""
    results: dict[str, Any] = {}
    for variants, texts in runs:
        results.update(compare(variants, texts)[1])
    return overlay_health_chart(results, title=title)


def spec_texts(variants: list[Variant]) -> tuple[tuple[str, str], ...]:
    """The text of each plan the variants name: the current spec's own, or a shipped file."""
    texts = ss.setdefault("cmp_plan_texts", {})
    return tuple((n, texts.get(n) or read_spec_text(n)) for n in sorted({v.spec for v in variants}))


@st.cache_data(show_spinner=False, max_entries=16)
def explained(variant: Variant, spec_text: str) -> Any:
    """One run again with its decisions, explained as budget simulate --explain explains it."""
    spec = spec_from_text(spec_text, f"specs/{variant.spec}")
    scenario = scenario_from_dict(variant.scenario_fields(), spec, name=variant.label)
    result = simulate(spec, scenario).to_dict()  # as run_variants runs it (the policy is in the scenario)
    return explain_result(result, spec, query=variant.check)


def explain_pick(variants: list[Variant], key: str) -> None:
    """Pick one of the runs above and read why it came out as it did."""
    labels = [v.label for v in variants]
    pick = st.selectbox("Why? Explain a run", labels, index=len(labels) - 1, key=key)
    v = variants[labels.index(pick)]
    explanation(explained(v, dict(spec_texts([v]))[v.spec]), f"Why: {v.label}")


def current_key() -> str:
    return cur.name if cur.state == "shipped" else f"{cur.name} (edited {cur.revision})"


TWO_DECIMALS = st.column_config.NumberColumn(format="%.2f")
CONFIG = {
    "token_health_min": TWO_DECIMALS,
    "second_dip": TWO_DECIMALS,
    "predicted": TWO_DECIMALS,
    "prediction_error": st.column_config.NumberColumn("prediction_error", format="%+.2f"),
    "mttr_p95_s": st.column_config.NumberColumn("mttr_p95 (s)"),
    "timeout_s": st.column_config.NumberColumn("timeout (s)"),
    "outage_min": st.column_config.NumberColumn("outage (min)"),
    "failover": st.column_config.NumberColumn("failover", help="tasks failed over to the expensive tier"),
    "degraded": st.column_config.NumberColumn("degraded", help="tasks sent to the degraded queue"),
    "manual": st.column_config.NumberColumn("manual", help="tasks moved to the manual channel"),
    "queue": st.column_config.NumberColumn("queue", help="tasks in the queue when the tier fails"),
}
UNITS = (
    "failover, degraded and manual count tasks; token_health_min and predictions run from 0 to 1; "
    "mttr_p95 is in seconds."
)


def show_runs(rows: list[dict[str, Any]], runs: tuple[Runs, ...], columns: list[str], title: str, key: str) -> None:
    """A table of runs (what the section is about first; the rest behind an expander) and their curves (of
    each set of runs, in order)."""
    frame = pd.DataFrame(rows)
    if "token_health_min" in frame:  # one rounding rule for token_health: down, as the CLI and every page
        frame["token_health_min"] = [float(health_text(v)) for v in frame["token_health_min"]]
        if "prediction_error" in frame:  # against the figure beside it
            frame["prediction_error"] = (frame["predicted"] - frame["token_health_min"]).round(2)
    config = dict(CONFIG)
    longest = int(frame["variant"].str.len().max())
    if longest > 16:  # room for the whole label (about 7 px a character at the grid's font), never cut
        config["variant"] = st.column_config.TextColumn("variant", width=min(420, 7 * longest + 32))
    table(frame[[c for c in columns if c in frame]], key, f"{key}.csv", column_config=config)
    rest = [c for c in frame.columns if c not in columns]
    # drawn only once opened (a rerun): closed, the three tables cost Compare's first visit their drawing
    with st.expander("All columns of these runs", key=f"w_cmp_all_{key}", on_change="rerun") as more:
        if more.open:
            st.dataframe(frame[["variant", *rest]], hide_index=True, width="stretch", column_config=CONFIG)
    st.altair_chart(curves(runs, title), width="stretch")


def shipped_section(heading: str, variants: tuple[Variant, ...], columns: list[str], title: str, key: str) -> Any:
    """A tab of shipped runs: its heading, their table and curves; their rows returned."""
    st.subheader(heading)
    runs: Runs = (variants, spec_texts(list(variants)))
    rows = compare(*runs)[0]
    show_runs(rows, (runs,), columns, title, key)
    return rows


ss.setdefault("cmp_variants", [])

st.title("Compare")
st.caption(
    "Runs side by side. Predict token_health_min before you run a variant; the table puts your "
    "prediction beside the actual value."
)

# one section at a time: only the open tab's runs are drawn (a first visit draws the chapter's alone, some
# 0.4 s less than the four sections' tables and charts); the open tab is in the page's address
# (/Compare?section=Three+policies), so a reload or a link (Home's, for the traps) opens it
tabs = st.tabs(list(COMPARE_SECTIONS), key="section", bind="query-params", on_change="rerun")
with tabs[0]:
    if tabs[0].open:
        rows = shipped_section(
            "The chapter: 15 min vs 45 min vs the 5M budget",
            CHAPTER_VARIANTS,
            ["variant", "failover", "degraded", "manual", "token_health_min", "mttr_p95_s", "guard", "check holds"],
            "token_health: 15 vs 45 minutes vs 5M (minutes from 11:00)",
            "cmp_chapter",
        )
        st.caption(UNITS + " The checks: " + "; ".join(f"{r['variant']}: `{r['check']}`" for r in rows))
        explain_pick(list(CHAPTER_VARIANTS), "w_cmp_why_chapter")
with tabs[1]:
    if tabs[1].open:
        st.subheader("Your variants")
        spec = need_spec()
        with st.form("w_cmp_form", clear_on_submit=False):
            st.markdown(f"Plan: the current spec `{cur.name}` ({cur.state}); change it in the sidebar.")
            fc = st.columns(4)
            duration = fc[0].number_input("outage (min)", value=60, step=5, key="w_cmp_duration")
            queue = fc[1].number_input("queue (incidents)", value=40, step=1, key="w_cmp_queue")
            timeout = fc[2].number_input("manual timeout (s)", value=60, step=10, key="w_cmp_timeout")
            policy = fc[3].selectbox("policy", ROUTING_POLICIES, key="w_cmp_policy")
            fc = st.columns([1, 2, 1])
            predicted = fc[0].number_input(
                "your predicted token_health_min",
                min_value=0.0,
                max_value=1.0,
                value=0.5,
                step=0.01,
                key="w_cmp_predicted",
            )
            label = fc[1].text_input("label", value="", key="w_cmp_label", placeholder="e.g. queue 40, 60 min")
            if fc[2].form_submit_button("Add variant and run", disabled=spec is None):
                plan = current_key()
                name = (
                    label.strip()
                    or f"{cur.name.removesuffix('.yaml')}: {duration} min, queue {queue}, {timeout:g} s, {policy}"
                )
                v = Variant(
                    name,
                    spec=plan,
                    duration_min=int(duration),
                    queue=int(queue),
                    manual_timeout_sec=float(timeout),
                    policy=policy,
                    predicted_floor=float(predicted),
                )
                ss.setdefault("cmp_plan_texts", {})[plan] = cur.text
                try:
                    compare((v,), spec_texts([v]))  # validate before keeping it
                    ss["cmp_variants"] = [x for x in ss["cmp_variants"] if x.label != name] + [v]
                    ss["cmp_plan_labels"] = {**ss.get("cmp_plan_labels", {}), plan: spec_label(cur)}
                except BudgetError as exc:
                    st.error(str(exc), icon=":material/error:")

        variants: list[Variant] = ss["cmp_variants"]
        if variants:
            try:
                mine: Runs = (tuple(variants), spec_texts(variants))
                vrows, vresults = compare(*mine)
            except BudgetError as exc:  # a variant's plan is no longer what it was run on
                st.error(str(exc), icon=":material/error:")
                vrows, vresults = [], {}
            if vrows:
                show_runs(
                    vrows,
                    ((CHAPTER_VARIANTS, spec_texts(list(CHAPTER_VARIANTS))), mine),  # the chapter's runs and yours
                    # prediction against the run: the counts are under "All columns" (the label needs the room)
                    ["variant", "predicted", "token_health_min", "prediction_error", "guard"],
                    "token_health: the chapter's runs and yours",
                    "cmp_mine",
                )
                last, r = vrows[-1], vresults[vrows[-1]["variant"]]
                v = variants[-1]
                entry = workbook().record(
                    "Compare",
                    f"variant {v.label} (predicted {v.predicted_floor:.2f})",
                    failure_command(
                        ss.get("cmp_plan_labels", {}).get(v.spec, v.spec),
                        v.start,
                        v.down_tier,
                        v.duration_min,
                        v.queue,
                        v.manual_timeout_sec,
                        v.policy,
                    ),
                    f"predicted token_health_min {v.predicted_floor:.2f}, actual {last['token_health_min']:.4f} "
                    f"(prediction_error {last['prediction_error']:+.2f}); failover {last['failover']}, degraded "
                    f"{last['degraded']}, manual {last['manual']} tasks; guard {last['guard']}; "
                    f"mttr_p95 {r['mttr_p95']:g} s",
                )
                st.markdown("**Your last variant in the workbook**")
                workbook_pair(entry)
                explain_pick(variants, "w_cmp_why_mine")
            if st.button("Clear my variants", key="w_cmp_clear"):
                ss["cmp_variants"] = []
                st.rerun()
        else:
            st.info("Add a variant: the chapter suggests queue 40, 60 minutes, a 60 s manual timeout. Predict first.")
with tabs[2]:
    if tabs[2].open:
        prows = shipped_section(
            "The three policies on the 45-minute outage",
            POLICY_VARIANTS,
            [
                "variant",
                "failover",
                "degraded",
                "manual",
                "token_health_min",
                "P0/P1 SLA breaches",
                "guard",
                "mttr_p95_s",
            ],
            "ranked vs all_to_frontier vs hold_all",
            "cmp_policies",
        )
        st.caption(policy_sentence(prows))
with tabs[3]:
    if tabs[3].open:
        shipped_section(
            "Bringing local-coder back: immediate vs staged return",
            RETURN_VARIANTS,
            ["variant", "degraded", "token_health_min", "second_dip", "relapses", "mttr_p95_s"],
            "local-coder down 30 min, queue 40: return immediate vs staged",
            "cmp_return",
        )
        st.caption(
            "An immediate full return floods the recovering tier with the whole backlog; it fails again and "
            "token_health dips a second time. The staged return (30% for triage/classification, 60% after three "
            "stable windows, full after the audit) drains the backlog without a second cascade."
        )
