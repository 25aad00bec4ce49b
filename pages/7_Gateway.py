"""Gateway: the anti-Goodhart checks, edited here, evaluated on a result's metrics."""

from __future__ import annotations

import json

import streamlit as st

from budget.errors import BudgetError
from budget.gate import checks_from_text, validate
from budget.keeper import simulate
from budget.loader import parse_json_text
from budget.query import format_value
from budget.scenario import ROUTING_POLICIES, load_scenario
from budget.spec import load_spec
from budget.workbench import DEFAULT_SCENARIO, DEFAULT_SPEC, MAX_UPLOAD_BYTES, scenarios_dir, specs_dir

ss = st.session_state
GATE = specs_dir() / "validation" / "budget_gate.yaml"


@st.cache_data(show_spinner=False, max_entries=8)
def textbook_run(policy: str) -> dict:
    spec = load_spec(specs_dir() / DEFAULT_SPEC)
    return simulate(
        spec, load_scenario(scenarios_dir() / DEFAULT_SCENARIO, spec), routing=policy, include_decisions=False
    ).to_dict()


ss.setdefault("gate_text", GATE.read_text(encoding="utf-8"))
st.title("Anti-Goodhart gateway")
st.caption(
    "A release that improves one metric at the expense of the others does not pass: a fast MTTR with few "
    "escalations is accepted only if no guard metric is past its line."
)

left, right = st.columns([1, 1])
with left:
    text = st.text_area(
        "Checks (the chapter's validation format)", value=ss["gate_text"], height=420, key="w_gate_text"
    )
    ss["gate_text"] = text
with right:
    options = [f"45-minute outage, policy {p}" for p in ROUTING_POLICIES] + ["upload a result"]
    if ss.get("last_result") is not None:
        options.insert(0, "last simulation")
    pick = st.radio("Metrics from", options, key="w_gate_source")
    metrics = None
    label = pick
    if pick == "last simulation":
        metrics = ss["last_result"]
    elif pick == "upload a result":
        up = st.file_uploader(
            "simulate or drill result, or plain metrics (JSON, 5 MB)", type=["json"], key="w_gate_upload"
        )
        if up is not None:
            try:
                if up.size > MAX_UPLOAD_BYTES:
                    raise BudgetError(f"{up.name}: over the {MAX_UPLOAD_BYTES:,}-byte limit")
                doc = parse_json_text(up.getvalue().decode("utf-8", errors="replace"), up.name)
                if not isinstance(doc.data, dict):
                    raise BudgetError(f"{up.name}: must be a JSON object of metrics")
                metrics, label = doc.data, up.name
            except BudgetError as exc:
                st.error(str(exc), icon=":material/error:")
    else:
        metrics = textbook_run(pick.rsplit(" ", 1)[1])

try:
    checks = checks_from_text(text, "checks.yaml")
except BudgetError as exc:
    checks = None
    st.error(str(exc), icon=":material/error:")

if checks is not None and metrics is not None:
    try:
        reports = validate(checks, metrics)
        failed = [(r.target, cid) for r in reports for cid in r.failed]
        if failed:
            st.error(
                "FAIL: " + ", ".join(f"{cid} ({t})" for t, cid in failed) + f" — {label}", icon=":material/cancel:"
            )
        else:
            st.success(f"PASS: no activated check fails — {label}", icon=":material/check_circle:")
        for rep in reports:
            for o in rep.outcomes:
                state = "fails" if o.failed else ("passes" if o.activated else "not activated")
                with st.expander(f"{o.check.id} ({rep.target}): {state}", expanded=o.failed):
                    st.markdown(f"**if {o.check.mode}:**")
                    for c in o.when:
                        st.markdown(f"- `{c.text}` → {'true' if c.ok else 'false'} (actual {format_value(c.actual)})")
                    for c in o.fail_if:
                        verdict = "**fails**" if (c.ok and o.activated) else ("holds" if not c.ok else "past its line")
                        st.markdown(f"- fail_if `{c.text}` → {verdict} (actual {format_value(c.actual)})")
                    for c in o.require:
                        verdict = "met" if c.ok else ("**not met**" if o.activated else "not met")
                        st.markdown(f"- require `{c.text}` → {verdict} (actual {format_value(c.actual)})")
        st.download_button("Download the checks", text, file_name="budget_gate.yaml", key="w_gate_download")
        with st.expander("Metrics read"):
            st.code(
                json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}, indent=2),
                language="json",
            )
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")
