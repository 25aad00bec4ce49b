"""Simulator: a plan and an outage scenario in, the keeper's minute-by-minute run out."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from budget.charts import health_chart, queue_chart
from budget.errors import BudgetError
from budget.keeper import RESULT_LABELS, manual_key, simulate
from budget.loader import parse_json_text
from budget.query import evaluate, format_value
from budget.scenario import ROUTING_POLICIES, scenario_from_document
from budget.spec import spec_from_text
from budget.workbench import (
    DEFAULT_SCENARIO,
    DEFAULT_SPEC,
    MAX_UPLOAD_BYTES,
    decisions_table,
    read_spec_text,
    red_button_rows,
    scenarios_dir,
    shipped_scenarios,
    shipped_specs,
)

st.set_page_config(page_title="Simulator", page_icon=":material/savings:", layout="wide")
ss = st.session_state
EDITED = "edited in the Spec editor"


@st.cache_data(show_spinner=False, max_entries=64)
def run_sim(spec_text: str, spec_name: str, scenario_text: str, scenario_name: str, policy: str) -> dict[str, Any]:
    """Pure and deterministic: every input it reads is an argument."""
    spec = spec_from_text(spec_text, spec_name)
    scenario = scenario_from_document(parse_json_text(scenario_text, scenario_name), spec)
    return simulate(spec, scenario, routing=policy).to_dict()


ss.setdefault("sim_plan", DEFAULT_SPEC)
ss.setdefault("sim_source", "shipped")
ss.setdefault("sim_scenario", DEFAULT_SCENARIO)
ss.setdefault("sim_policy", "ranked")
ss.setdefault(
    "sim_form",
    {
        "start": "11:00",
        "down_tier": "local-coder",
        "duration_min": 45,
        "queue": 20,
        "manual_timeout_sec": 120,
        "seed": 0,
    },
)

st.title("Simulator")
st.caption("The budget keeper recomputes spent, queues, quotas and token_health every minute of the run.")

plans = shipped_specs()
edited_text = ss.get("spec_text")
if edited_text is not None:
    base = ss.get("spec_name")
    if base not in plans or read_spec_text(base) != edited_text:
        plans = [*plans, EDITED]
c = st.columns([2, 2, 1])
plan = c[0].selectbox(
    "Plan", plans, index=plans.index(ss["sim_plan"]) if ss["sim_plan"] in plans else 0, key="w_sim_plan"
)
ss["sim_plan"] = plan
sources = ["shipped", "form", "upload"]
source = c[1].radio("Scenario", sources, index=sources.index(ss["sim_source"]), horizontal=True, key="w_sim_source")
ss["sim_source"] = source
policy = c[2].selectbox(
    "Routing policy", ROUTING_POLICIES, index=ROUTING_POLICIES.index(ss["sim_policy"]), key="w_sim_policy"
)
ss["sim_policy"] = policy

if plan == EDITED:
    spec_text, spec_name = ss["spec_text"], ss.get("spec_name", "edited.yaml")
else:
    spec_text, spec_name = read_spec_text(plan), f"specs/{plan}"

scenario_text: str | None = None
scenario_name = "scenario"
errors: list[str] = []
try:
    spec = spec_from_text(spec_text, spec_name)
except BudgetError as exc:
    spec = None
    errors.append(str(exc))

if source == "shipped":
    names = shipped_scenarios()
    pick = st.selectbox(
        "Shipped scenario",
        names,
        index=names.index(ss["sim_scenario"]) if ss["sim_scenario"] in names else 0,
        key="w_sim_scenario",
    )
    ss["sim_scenario"] = pick
    scenario_name = f"scenarios/{pick}"
    scenario_text = (scenarios_dir() / pick).read_text(encoding="utf-8")
elif source == "form":
    f = ss["sim_form"]
    tiers = list(spec.tiers) if spec is not None else ["local-coder"]
    fc = st.columns(7)
    f["start"] = fc[0].text_input("start (HH:MM)", value=f["start"], key="w_sim_start")
    down_opts = ["(no outage)", *tiers]
    f["down_tier"] = fc[1].selectbox(
        "down tier",
        down_opts,
        index=down_opts.index(f["down_tier"]) if f["down_tier"] in down_opts else 1,
        key="w_sim_down",
    )
    f["duration_min"] = fc[2].number_input("duration (min)", value=int(f["duration_min"]), step=5, key="w_sim_duration")
    f["queue"] = fc[3].number_input("queue (incidents)", value=int(f["queue"]), step=1, key="w_sim_queue")
    f["manual_timeout_sec"] = fc[4].number_input(
        "manual timeout (s)", value=int(f["manual_timeout_sec"]), step=10, key="w_sim_timeout"
    )
    f["seed"] = fc[5].number_input("seed", value=int(f["seed"]), step=1, key="w_sim_seed")
    recoveries = ["instant", "immediate", "staged"]
    f["recovery"] = fc[6].selectbox(
        "return",
        recoveries,
        index=recoveries.index(f.get("recovery", "instant")),
        key="w_sim_recovery",
        help="how local-coder comes back after the outage",
    )
    data = {k: v for k, v in f.items() if not (k == "down_tier" and v == "(no outage)")}
    data.setdefault("recovery", "instant")
    if "down_tier" not in data:
        data.pop("duration_min", None)
    scenario_text = json.dumps(data)
    scenario_name = "form"
else:
    up = st.file_uploader("Scenario JSON (up to 5 MB)", type=["json"], key="w_sim_upload")
    if up is not None:
        if up.size > MAX_UPLOAD_BYTES:
            errors.append(f"{up.name}: {up.size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit")
        else:
            try:
                scenario_text = up.getvalue().decode("utf-8")
                scenario_name = up.name
            except UnicodeDecodeError:
                errors.append(f"{up.name}: not UTF-8 text")
    else:
        st.info("Upload a scenario such as scenarios/fail_local_45m.json.")

if spec is not None and scenario_text is not None:
    try:  # validate now, so a bad scenario shows its error before any run
        scenario_from_document(parse_json_text(scenario_text, scenario_name), spec)
    except BudgetError as exc:
        errors.append(str(exc))

for e in errors:
    st.error(e, icon=":material/error:")

signature = (spec_text, scenario_text, scenario_name, policy)
ready = not errors and spec is not None and scenario_text is not None
if st.button("Run simulation", key="w_sim_run", type="primary", disabled=not ready):
    with st.status("Simulating…", expanded=False) as status:
        bar = st.progress(0.0)
        ss["sim_result"] = {
            "signature": signature,
            "result": run_sim(spec_text, spec_name, scenario_text or "", scenario_name, policy),
            "label": f"{plan} · {scenario_name} · {policy}",
        }
        bar.progress(1.0)
        status.update(label="Done", state="complete")

held = ss.get("sim_result")
if held and held["signature"] != signature:
    st.info("The inputs changed since the last run: run again to see their result.")
    held = None

if held:
    r = held["result"]
    ss["last_result"] = r  # the Budget note page prefills from it
    ss["last_result_label"] = held["label"]
    mk = manual_key(r["manual_timeout_sec"])
    m = st.columns(3)
    m[0].metric("failover_to_frontier", r["failover_to_frontier"], help=RESULT_LABELS["failover_to_frontier"])
    m[1].metric("degraded_queue", r["degraded_queue"], help=RESULT_LABELS["degraded_queue"])
    m[2].metric(mk, r[mk], help=f"tasks moved to the manual channel after {r['manual_timeout_sec']} s")
    m = st.columns(3)
    margin = r["token_health_min"] - r["alert_threshold"]
    m[0].metric(
        "token_health_min", f"{r['token_health_min']:.2f}", f"{margin:+.2f} vs the {r['alert_threshold']:.2f} guard"
    )
    m[1].metric("mttr_p95", f"{r['mttr_p95'] / 60:.1f} min", help=RESULT_LABELS["mttr_p95"])
    m[2].metric("P0/P1 SLA breaches", r["sla_breaches"]["P0"] + r["sla_breaches"]["P1"])

    st.subheader("The chapter's checks, as one composite query")
    default_q = f"failover_to_frontier==5 && degraded_queue==15 && {mk}==15 && token_health_min>=0.5"
    query = st.text_input("inspect query", value=ss.get("sim_query", default_q), key="w_sim_query")
    ss["sim_query"] = query
    try:
        outcome = evaluate(query, r)
        for cl in outcome.clauses:
            (st.success if cl.ok else st.error)(
                f"`{cl.text}` → actual **{format_value(cl.actual)}**",
                icon=":material/check_circle:" if cl.ok else ":material/cancel:",
            )
        (st.success if outcome.ok else st.error)(
            "PASS: the query holds" if outcome.ok else "FAIL: the query does not hold"
        )
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")

    st.altair_chart(health_chart(r), width="stretch", height=380)
    st.altair_chart(queue_chart(r), width="stretch", height=260)

    st.subheader("Emergency mode (red button) and the guard")
    st.dataframe(pd.DataFrame(red_button_rows(r)), hide_index=True, width="stretch")
    rec = r.get("recovery", {})
    if rec.get("stages") or rec.get("relapses"):
        st.subheader(f"Return of the cheap tier ({rec['mode']})")
        events = [{"time": e["time"], "event": f"stage {e['stage']}", "why": e["reason"]} for e in rec["stages"]]
        events += [{"time": e["time"], "event": "relapse", "why": e["reason"]} for e in rec["relapses"]]
        st.dataframe(pd.DataFrame(sorted(events, key=lambda e: e["time"])), hide_index=True, width="stretch")
        st.caption(f"second dip of token_health after the return: {rec['second_dip']:.2f}")

    st.subheader("Decisions: where each task went and why (the audit trail)")
    st.dataframe(pd.DataFrame(decisions_table(r)), hide_index=True, width="stretch", height=320)
    st.download_button(
        "Download result JSON",
        json.dumps(r, indent=2) + "\n",
        file_name="fail_result.json",
        mime="application/json",
        key="w_sim_download",
    )
