"""Gateway: the anti-Goodhart checks, edited or uploaded, evaluated on a result's metrics."""

from __future__ import annotations

import json

import streamlit as st

from budget.errors import BudgetError
from budget.files import parse_json_text
from budget.gateway import rules_from_text, run
from budget.keeper import simulate
from budget.model import ROUTING_POLICIES, scenario_from_document, spec_from_text
from budget.workbench import DEFAULT_SCENARIO, DEFAULT_SPEC, MAX_UPLOAD_BYTES, scenarios_dir, specs_dir
from ui import current, load_shipped, need_spec

ss = st.session_state
GATE = specs_dir() / "validation" / "budget_gate.yaml"


@st.cache_data(show_spinner=False, max_entries=8)
def outage_run(spec_text: str, spec_name: str, scenario_text: str, policy: str) -> dict:
    """The 45-minute outage on the current spec (every input an argument: the cache key holds them all)."""
    spec = spec_from_text(spec_text, spec_name)
    scenario = scenario_from_document(parse_json_text(scenario_text, f"scenarios/{DEFAULT_SCENARIO}"), spec)
    return simulate(spec, scenario, routing=policy, include_decisions=False).to_dict()


def upload_text(up) -> str:  # type: ignore[no-untyped-def]
    """An upload's text, refused as the CLI refuses it: over the limit, or not UTF-8."""
    if up.size > MAX_UPLOAD_BYTES:
        raise BudgetError(f"{up.name}: over the {MAX_UPLOAD_BYTES:,}-byte limit")
    try:
        return up.getvalue().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BudgetError(f"{up.name}: not UTF-8 text (byte {exc.start})") from None


def upload_json(up) -> dict:  # type: ignore[no-untyped-def]
    doc = parse_json_text(upload_text(up), up.name)
    if not isinstance(doc.data, dict):
        raise BudgetError(f"{up.name}: must be a JSON object")
    return doc.data


ss.setdefault("gate_text", GATE.read_text(encoding="utf-8"))
st.title("Anti-Goodhart gateway")
st.caption(
    "A release that improves one metric at the expense of the others does not pass: a fast MTTR with few "
    "escalations is accepted only if no guard metric is past its line. The chapter's checks (if/then) and "
    "the chapter-10 validator's (invariants, when_metric, correlation_guard) are both read."
)

errors: list[str] = []
left, right = st.columns([1, 1])
with left:
    text = st.text_area("Checks (either format)", value=ss["gate_text"], height=380, key="w_gate_text")
    ss["gate_text"] = text
    rules_up = st.file_uploader(
        "…or upload a validation file (YAML, or Markdown with a ```yaml block; 5 MB)",
        type=["yaml", "yml", "md", "markdown"],
        key="w_gate_rules_upload",
    )
with right:
    options = [f"45-minute outage, policy {p}" for p in ROUTING_POLICIES] + ["upload a result"]
    if ss.get("last_result") is not None:
        options.insert(0, "last simulation")
    pick = st.radio("Metrics from", options, key="w_gate_source")
    metrics = None
    label = pick
    if pick == "last simulation":
        metrics = ss["last_result"]
        label = f"last simulation: {ss.get('last_result_label', 'Simulator')}"  # its spec, scenario and policy
        st.caption(f"The Simulator's last run: {ss.get('last_result_label', '')}.")
    elif pick == "upload a result":
        up = st.file_uploader(
            "simulate or drill result, or plain metrics (JSON, 5 MB)", type=["json"], key="w_gate_upload"
        )
        if up is not None:
            try:
                metrics, label = upload_json(up), up.name
            except BudgetError as exc:
                errors.append(str(exc))
    else:
        cur = current()
        st.caption(
            f"The 45-minute outage (scenarios/{DEFAULT_SCENARIO}) runs on the current spec, `{cur.name}` "
            f"({cur.state}): pick another in the sidebar."
        )
        if cur.name != DEFAULT_SPEC:  # e.g. made current by the Drill or Calibrate page's chapter button
            st.info(
                f"README exercise 7 runs {DEFAULT_SPEC}, the chapter's 10M plan; the current spec is {cur.name}.",
                icon=":material/info:",
            )
            st.button(
                f"Make {DEFAULT_SPEC} the current spec",
                key="w_gate_chapter_spec",
                on_click=load_shipped,
                args=(DEFAULT_SPEC,),
            )
        if need_spec() is not None:
            policy = pick.rsplit(" ", 1)[1]
            try:
                scenario_text = (scenarios_dir() / DEFAULT_SCENARIO).read_text(encoding="utf-8")
                metrics = outage_run(cur.text, cur.name, scenario_text, policy)
                label = f"{cur.name}, 45-minute outage, policy {policy}"
            except BudgetError as exc:
                errors.append(str(exc))
    base_up = st.file_uploader(
        "Baseline for a correlation_guard (last release's metrics with edge_correlations; JSON)",
        type=["json"],
        key="w_gate_baseline",
    )

rules = baseline = None
try:
    rules = rules_from_text(upload_text(rules_up), rules_up.name) if rules_up else rules_from_text(text, "checks.yaml")
except BudgetError as exc:
    errors.append(str(exc))
if base_up is not None:
    try:
        baseline = upload_json(base_up)
    except BudgetError as exc:
        errors.append(str(exc))
for e in errors:
    st.error(e, icon=":material/error:")

if rules is not None and metrics is not None and not errors:
    try:
        verdict = run(rules, metrics, label, baseline, base_up.name if base_up else None)
        summary = f"{verdict.summary()} — {label}"
        if verdict.failed:
            st.error(summary, icon=":material/cancel:")
        else:
            st.success(summary, icon=":material/check_circle:")
        st.caption("; ".join(verdict.notes))
        for item in verdict.items:
            with st.expander(item.headline(), expanded=item.failed):
                st.markdown("\n".join(f"- `{line.strip()}`" for line in item.lines))
        st.download_button("Download the checks", text, file_name="budget_gate.yaml", key="w_gate_download")
        st.download_button(
            "Download the verdict (JSON)",
            json.dumps(verdict.to_dict(), indent=2) + "\n",
            file_name="verdict.json",
            key="w_gate_verdict",
        )
        with st.expander("Metrics read"):
            st.code(
                json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}, indent=2),
                language="json",
            )
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")
