"""Simulator: a plan and an outage scenario in, the keeper's minute-by-minute run out."""

from __future__ import annotations

import json
import uuid
from typing import Any

import streamlit as st

from budget.errors import BudgetError
from budget.files import parse_json_text
from budget.gateway import evaluate
from budget.keeper import RESULT_LABELS, health_text, manual_key, simulate
from budget.model import ROUTING_POLICIES, scenario_from_document, spec_from_text
from budget.workbench import (
    DEFAULT_SCENARIO,
    decisions_table,
    explain_result,
    health_chart,
    pipeline_dot,
    queue_chart,
    red_button_rows,
    scenarios_dir,
    shipped_scenarios,
    simulate_command,
    simulate_output,
    value_with_unit,
)
from ui import current, explanation, need_spec, read_upload, spec_label, table, workbook, workbook_pair

ss = st.session_state


@st.cache_data(show_spinner=False, max_entries=64)
def run_sim(spec_text: str, spec_name: str, scenario_text: str, scenario_name: str, policy: str) -> dict[str, Any]:
    """Pure and deterministic: every input it reads is an argument."""
    spec = spec_from_text(spec_text, spec_name)
    scenario = scenario_from_document(parse_json_text(scenario_text, scenario_name), spec)
    return simulate(spec, scenario, routing=policy).to_dict()


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

cur = current()
c = st.columns([2, 2, 1])
c[0].markdown(f"**Plan** (the current spec)  \n`{cur.name}` · {cur.state}")
sources = ["shipped", "form", "upload"]
source = c[1].radio("Scenario", sources, index=sources.index(ss["sim_source"]), horizontal=True, key="w_sim_source")
ss["sim_source"] = source
policy = c[2].selectbox(
    "Routing policy", ROUTING_POLICIES, index=ROUTING_POLICIES.index(ss["sim_policy"]), key="w_sim_policy"
)
ss["sim_policy"] = policy

spec_text, spec_name = cur.text, cur.name
scenario_text: str | None = None
scenario_name = "scenario"
errors: list[str] = []
spec = need_spec()

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
    fc = st.columns([1, 2, 1, 1]) + st.columns(3)  # two rows: a tier's name and every label stay whole
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
        try:
            scenario_text, scenario_name = read_upload(up), up.name
        except BudgetError as exc:
            errors.append(str(exc))
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
            "label": f"{spec_name} · {scenario_name} · {policy}",
            "run": uuid.uuid4().hex,  # the run's workbook entry: editing the query updates it, never adds one
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
    m[0].metric(
        "failover_to_frontier", f"{r['failover_to_frontier']} tasks", help=RESULT_LABELS["failover_to_frontier"]
    )
    m[1].metric("degraded_queue", f"{r['degraded_queue']} tasks", help=RESULT_LABELS["degraded_queue"])
    m[2].metric(mk, f"{r[mk]} tasks", help=f"tasks moved to the manual channel after {r['manual_timeout_sec']:g} s")
    m = st.columns(3)
    margin = float(health_text(r["token_health_min"])) - r["alert_threshold"]  # the figure shown, to the guard
    m[0].metric(
        "token_health_min (0-1)",
        health_text(r["token_health_min"]),
        f"{margin:+.2f} vs the {r['alert_threshold']:.2f} guard",
        help=f"lowest token_health of the run, at {r['token_health_min_at']}",
    )
    m[1].metric("mttr_p95", f"{r['mttr_p95'] / 60:.1f} min", help=RESULT_LABELS["mttr_p95"])
    m[2].metric("P0/P1 SLA breaches", f"{r['sla_breaches']['P0'] + r['sla_breaches']['P1']} tasks")

    st.subheader("The chapter's checks, as one composite query")
    default_q = f"failover_to_frontier==5 && degraded_queue==15 && {mk}==15 && token_health_min>=0.5"
    query = st.text_input("inspect query", value=ss.get("sim_query", default_q), key="w_sim_query")
    ss["sim_query"] = query
    try:
        outcome = evaluate(query, r)
        for cl in outcome.clauses:
            (st.success if cl.ok else st.error)(
                f"`{cl.text}` → actual **{value_with_unit(cl.text, cl.actual)}**",
                icon=":material/check_circle:" if cl.ok else ":material/cancel:",
            )
        (st.success if outcome.ok else st.error)(
            "PASS: the query holds" if outcome.ok else "FAIL: the query does not hold"
        )
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")

    # the same sentences as budget simulate --explain, with the query as typed above
    try:
        why = explain_result(r, spec, query=query)
    except BudgetError:  # the query's own error is shown above: explain the run without it
        why = explain_result(r, spec)
    explanation(why)

    st.subheader("Workbook: the command, its output, and what it means for you")
    scenario_arg = f"scenarios/{ss['sim_scenario']}" if source == "shipped" else f"{scenario_name} (your scenario)"
    entry = workbook().record(
        "Simulator",
        held["label"],
        simulate_command(spec_label(cur), scenario_arg, policy, query),
        simulate_output(r),
        slot=held.get("run"),
    )
    workbook_pair(entry)

    st.subheader("The flow of this run")
    st.caption(
        "The phases and tiers of the current spec, the three exits with this run's counts, where the SLA "
        "thresholds apply and where the token_health guard sits."
    )
    if spec is not None:
        st.graphviz_chart(pipeline_dot(spec, r), width="stretch")

    st.altair_chart(health_chart(r), width="stretch")
    st.altair_chart(queue_chart(r), width="stretch")

    st.subheader("Emergency mode (red button) and the guard")
    table(red_button_rows(r), "sim_red", "red_button.csv")
    rec = r.get("recovery", {})
    if rec.get("stages") or rec.get("relapses"):
        st.subheader(f"Return of the cheap tier ({rec['mode']})")
        events = [{"time": e["time"], "event": f"stage {e['stage']}", "why": e["reason"]} for e in rec["stages"]]
        events += [{"time": e["time"], "event": "relapse", "why": e["reason"]} for e in rec["relapses"]]
        table(sorted(events, key=lambda e: e["time"]), "sim_return", "return.csv")
        st.caption(f"second dip of token_health after the return: {rec['second_dip']:.2f} (0-1)")

    st.subheader("Decisions: where each task went and why (the audit trail)")
    decisions = decisions_table(r)
    import pandas as pd  # here: the page's first visit draws without it

    # the reason is what the table is for: it gets the room, the times and sizes stay in the CSV and below
    main = ["id", "severity", "route", "resolved after (min)", "reason"]
    table(
        [{k: d[k] for k in main} for d in decisions],
        "sim_decisions",
        "decisions.csv",
        column_config={
            "reason": st.column_config.TextColumn(width="large", help="the last reason the keeper gave"),
            "resolved after (min)": st.column_config.NumberColumn("after (min)", help="minutes to resolution"),
        },
        height=320,
        csv=pd.DataFrame(decisions).to_csv(index=False),  # every column, the trail included
    )
    with st.expander("Every column, and each task's full trail"):
        st.dataframe(pd.DataFrame(decisions), hide_index=True, width="stretch")
    st.download_button(
        "Download result JSON",
        json.dumps(r, indent=2) + "\n",
        file_name="fail_result.json",
        mime="application/json",
        key="w_sim_download",
    )
