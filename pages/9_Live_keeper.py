"""Live keeper: the day the keeper decided in a real LiteLLM proxy, beside the same plan's simulated outage."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from budget.errors import BudgetError
from budget.workbench import DEFAULT_STATE, live_view, root, scenarios_dir, shipped_scenarios
from ui import explanation, table

st.title("Live keeper")
st.caption(
    "The keeper runs inside a LiteLLM proxy as a callback and decides every request with the simulator's own "
    "policy (docs/gateways.md). `python -m budget.traffic.live demo` starts a proxy on a fake upstream, pulls "
    f"the plug on the cheap tier and keeps the day's state in `{DEFAULT_STATE}`; a deployed keeper keeps it "
    "where `BUDGET_KEEPER_STATE` says. Here the live day is read in the simulator's terms, beside a simulated "
    "outage on the plan the keeper ran."
)

default = os.environ.get("BUDGET_KEEPER_STATE") or str(root() / DEFAULT_STATE)
state = st.text_input("Keeper state (a SQLite file or a redis:// URL)", value=default, key="lk_state")
scenarios = shipped_scenarios()
pick = st.selectbox(
    "Simulated beside it",
    scenarios,
    index=scenarios.index("fail_local_45m.json") if "fail_local_45m.json" in scenarios else 0,
    key="lk_scenario",
)
if st.button("Read the live day", type="primary", key="lk_read"):
    st.session_state.pop("lk_view", None)
    st.session_state.pop("lk_error", None)
    st.session_state.pop("lk_none", None)
    if not state.startswith("redis://") and not Path(state).is_file():  # nothing yet: the usual first visit
        st.session_state["lk_none"] = (
            f"No keeper state at {state} yet: run `python -m budget.traffic.live demo` (it keeps one there; "
            "README section 11)."
        )
    else:
        try:
            st.session_state["lk_view"] = live_view(state, scenarios_dir() / pick)
            st.session_state.pop("lk_error", None)
        except BudgetError as exc:
            st.session_state["lk_error"] = str(exc)

if st.session_state.get("lk_error"):
    st.error(st.session_state["lk_error"])
if st.session_state.get("lk_none"):
    st.info(st.session_state["lk_none"], icon=":material/info:")
view = st.session_state.get("lk_view")
if view is not None:
    st.markdown(f"**Plan the keeper ran:** {view.plan} · **simulated beside it:** {view.scenario}")
    st.caption(
        f"Each column is its own outage: the live day's as the keeper noted it ({view.outages[0]}; see "
        f"'Tiers down and up' below), the simulated one as {view.scenario} says ({view.outages[1]}); the figures "
        "differ as the outages do. The live column is the simulator's keeper run over the day the proxy saw, to "
        "its end: counts are what it decided, while times such as mttr_p95 are modelled from those decisions "
        "(an incident the demo stopped asking about still resolves in the model)."
    )
    table(view.rows, "lk_rows", "live_vs_simulated.csv")
    cols = st.columns(3)
    cols[0].markdown(
        "**Decisions, per request** (an incident asked about again counts again)\n\n"
        + "\n".join(f"- {k}: {n}" for k, n in sorted(view.decisions.items()))
    )
    failed = "".join(f"\n- {k}: {n} sent, the upstream failed" for k, n in sorted(view.failed_by_tier.items()))
    asked = "".join(f"\n- {k}: {n} probed, {a} answered" for k, (n, a) in view.probes_by_tier.items())
    cols[1].markdown(
        "**Calls the upstreams got, per tier** (requests served, requests the upstream failed, and the "
        "keeper's probes of a tier it took down)\n\n"
        + ("\n".join(f"- {k}: {n} served" for k, n in sorted(view.served_by_tier.items())) or "- none served")
        + failed
        + asked
    )
    cols[2].markdown(
        "**Tokens the upstreams reported**\n\n"
        + ("\n".join(f"- {k}: {n:,}" for k, n in sorted(view.tokens_by_tier.items())) or "- none")
    )
    if view.why is not None:
        explanation(view.why, "Why: the live day explained")
    st.subheader("Tiers down and up")
    st.caption(
        "A tier goes down when its upstream fails a call (or an operator says so); the keeper then asks it "
        "itself once a minute (a probe) and brings it back when it answers; the plan's return policy takes over."
    )
    if view.tier_events:
        table(
            view.tier_events,
            "lk_tiers",
            "live_tier_events.csv",
            column_config={"reason": st.column_config.TextColumn("reason", width="large")},
        )
    else:
        st.caption("No tier went down this day.")
    st.subheader("Every request the keeper decided")
    table(
        view.requests,
        "lk_requests",
        "live_requests.csv",
        height=320,
        column_config={
            "tier": st.column_config.TextColumn("tier", width="medium"),
            "upstream": st.column_config.TextColumn("upstream", help="what the upstream did with a request sent"),
            "reason": st.column_config.TextColumn("reason", width="large"),
        },
    )
