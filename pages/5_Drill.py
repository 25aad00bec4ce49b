"""Drill: replay a day of alerts through a spec with the cheap tier off for 15/30/45 minutes."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from budget.drill import (
    FIRES,
    FORMATS,
    NO_DATA,
    count_of,
    drill_csv,
    history_entry,
    history_from_text,
    import_alerts,
    review,
    run_drill,
)
from budget.errors import BudgetError
from budget.keeper import health_text
from budget.workbench import MAX_UPLOAD_BYTES, drill_health_chart, explain_drill, flow_chart, scenarios_dir
from ui import current, explanation, load_shipped, need_spec, read_upload, spec_label, workbook, workbook_pair

ss = st.session_state
DEFAULT_ALERTS = "alerts_day_800.jsonl"
CHAPTER_SPEC = "payment_gateway_85_15.yaml"


@st.cache_data(show_spinner=False, max_entries=16)
def read_alerts(text: str, name: str, fmt: str | None) -> tuple[tuple, dict]:
    incidents, report = import_alerts(text, name, fmt)
    return incidents, report.to_dict() | {"summary": report.summary()}


def alert_files() -> list[str]:
    root = scenarios_dir()
    files = sorted(p.relative_to(root).as_posix() for p in [*root.glob("*.jsonl"), *root.glob("samples/*")])
    return sorted(files, key=lambda n: (n != DEFAULT_ALERTS, n))


ss.setdefault("drill_alerts", DEFAULT_ALERTS)

st.title("Budget drill")
st.caption(
    "Yesterday's alert stream replayed through a budget with the cheap tier switched off, once per "
    "outage length, plus a baseline without an outage."
)

cur = current()
c = st.columns([2, 2, 1])
spec_name = cur.name
c[0].markdown(f"**Spec** (the current spec)  \n`{cur.name}` · {cur.state}")
if cur.name != CHAPTER_SPEC:
    c[0].button(
        f"Make the chapter's {CHAPTER_SPEC} the current spec",
        key="w_drill_chapter_spec",
        on_click=load_shipped,
        args=(CHAPTER_SPEC,),
        help="Every page then uses it (the Gateway page's outage runs too); pick another in the sidebar to go back.",
    )
files = alert_files()
alerts_name = c[1].selectbox(
    "Alert stream",
    files,
    index=files.index(ss["drill_alerts"]) if ss["drill_alerts"] in files else 0,
    key="w_drill_alerts",
)
ss["drill_alerts"] = alerts_name
fmt_choice = c[2].selectbox("Format", ["detect", *FORMATS], key="w_drill_format")
upload = st.file_uploader(
    "…or upload an alert stream (CSV, JSONL, Alertmanager, Grafana, PagerDuty; 5 MB)", key="w_drill_upload"
)
o = st.columns([2, 1, 1])
outages = o[0].multiselect(
    "Outages (minutes)", [5, 10, 15, 30, 45, 60, 90], default=[15, 30, 45], key="w_drill_outages"
)
start = o[1].text_input("Outage start (HH:MM)", value="11:00", key="w_drill_start")
# the guard is the spec's own alert_threshold, as budget drill uses it when --fail-under is not given
spec_guard = cur.spec.policy.alert_threshold if cur.spec is not None else 0.60
if ss.get("drill_guard_of") != (cur.name, spec_guard):
    ss["drill_guard_of"] = (cur.name, spec_guard)
    ss["w_drill_guard"] = spec_guard
fail_under = o[2].number_input(
    "Guard",
    min_value=0.0,
    max_value=1.0,
    step=0.01,
    key="w_drill_guard",
    help=f"the spec's alert_threshold ({spec_guard:.2f}) unless you change it (budget drill --fail-under)",
)


errors: list[str] = []
text, source = None, alerts_name
if upload is not None:
    try:
        text, source = read_upload(upload), upload.name
    except BudgetError as exc:
        errors.append(str(exc))
else:
    text = (scenarios_dir() / alerts_name).read_text(encoding="utf-8")

incidents, report = (), {}
if text is not None:
    try:
        incidents, report = read_alerts(text, source, None if fmt_choice == "detect" else fmt_choice)
        st.caption(report["summary"])
        if report["skipped"]:
            with st.expander(f"{len(report['skipped'])} records skipped"):
                st.dataframe(pd.DataFrame(report["skipped"]), hide_index=True)
    except BudgetError as exc:
        errors.append(str(exc))
spec = need_spec()
if not outages:
    errors.append("choose at least one outage length")
for e in errors:
    st.error(e, icon=":material/error:")

signature = (cur.text, source, text and len(text), fmt_choice, tuple(outages), start, fail_under)
if st.button("Run drill", key="w_drill_run", type="primary", disabled=bool(errors) or spec is None):
    bar = st.progress(0.0, text="replaying the day…")
    try:
        result = run_drill(
            spec,
            incidents,
            outages=sorted(outages),
            start=start,
            fail_under=fail_under,
            spec_name=spec_name,
            progress=lambda f: bar.progress(f, text=f"replaying… {f:.0%}"),
            evidence=True,  # for the Review block below
        )
        bar.progress(1.0, text="explaining each outage (its runs again, with their decisions)…")
        whys = explain_drill(spec, incidents, result)  # what budget drill --explain prints
        ss["drill_result"] = {
            "signature": signature,
            "why": whys,
            "data": result.to_dict(),
            "csv": drill_csv(result),
            "table": result.runs,
            "skipped": len(report.get("skipped", [])),
            "records": report.get("records", 0),
            "baseline_note": result.baseline_note(),  # the day below the guard without an outage, as the CLI says
        }
        # the day of the record is the stream's (the import report's), as budget drill --history writes it
        ss.setdefault("drill_history", []).append(history_entry(result.to_dict() | {"alerts": report}))
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")
    bar.empty()

held = ss.get("drill_result")
if held and held["signature"] != signature:
    st.info("The inputs changed since the last drill: run it again.")
    held = None
if held:
    data = held["data"]
    below = data["below_guard"]
    if below:
        st.error(
            f"token_health_min falls below the {data['fail_under']:.2f} guard at "
            + ", ".join(f"{m} min" for m in below),
            icon=":material/cancel:",
        )
    elif held.get("skipped"):
        st.warning(
            f"every outage holds the {data['fail_under']:.2f} guard, but only on what was read: "
            f"{held['skipped']} of {held['records']} records were skipped (see above)",
            icon=":material/warning:",
        )
    else:
        st.success(f"every outage holds the {data['fail_under']:.2f} guard", icon=":material/check_circle:")
    if held.get("baseline_note"):
        st.warning(f"Note: {held['baseline_note']}.", icon=":material/info:")
    st.dataframe(
        pd.DataFrame(held["table"]).assign(  # the workbench's one rounding rule (down), as the CLI's table
            token_health_min=lambda f: f["token_health_min"].map(lambda v: float(health_text(v)))
        )[
            [
                "outage_min",
                "token_health_min",
                "verdict",
                "silent_p0",
                "mttr_p95",
                "escalation_share",
                "manual_queue",
                "mid_tier_saturation",
                "red_button",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "outage_min": st.column_config.NumberColumn("outage (min)"),
            "token_health_min": st.column_config.NumberColumn("health_min", format="%.2f"),
            "silent_p0": st.column_config.NumberColumn(
                "silent_p0", format="%.3f", help="share of P0 closed without escalation"
            ),
            "escalation_share": st.column_config.NumberColumn("escalation", format="%.2f"),
            "mttr_p95": st.column_config.NumberColumn("mttr_p95 (s)"),
            "mid_tier_saturation": st.column_config.NumberColumn(
                "mid tier", format="%.2f", help="peak share of the middle tier's capacity used"
            ),
            "manual_queue": st.column_config.NumberColumn("manual (tasks)"),
            "red_button": st.column_config.CheckboxColumn("red button"),
        },
    )
    for minutes, why in held.get("why", []):
        with st.expander(f"Why: the {minutes}-minute outage", expanded=minutes == max(m for m, _ in held["why"])):
            explanation(why, f"Why the {minutes}-minute outage came out as it did")
    whole_day = st.toggle("Show the whole day", value=False, key="w_drill_whole_day")
    st.altair_chart(drill_health_chart(data, focus=not whole_day), width="stretch")
    st.altair_chart(flow_chart(data["flow_per_hour"]), width="stretch")
    entry = workbook().record(
        "Drill",
        f"drill of {spec_name} on {source}",
        f"budget drill --budget-spec {spec_label(cur)} --alerts {source if upload else 'scenarios/' + source} "
        f"--outages {','.join(str(m) for m in sorted(outages))} --start {start} --out out/drill.json"
        + (f" --fail-under {fail_under:.2f}" if abs(fail_under - spec_guard) > 1e-9 else ""),
        "\n".join(
            f"{r['outage_min']:>3} min: token_health_min {health_text(r['token_health_min'])}, "
            f"silent_p0 {r['silent_p0']:.3f}, "
            f"mttr_p95 {r['mttr_p95']} s, manual {r['manual_queue']} tasks: {r['verdict']}"
            for r in held["table"]
        ),
    )
    workbook_pair(entry)
    d = st.columns(2)
    d[0].download_button("Download table (CSV)", held["csv"], file_name="drill.csv", mime="text/csv", key="w_drill_csv")
    d[1].download_button(
        "Download result (JSON)",
        json.dumps(data, indent=2) + "\n",
        file_name="drill.json",
        mime="application/json",
        key="w_drill_json",
    )

# --- Review: the signals to revisit the thresholds (budget.drill.review), on a drill history ---------
st.subheader("Review")
st.caption(
    "The appendix's five signals and the drill's two, read from a drill history (`budget drill --history`). "
    "`python scripts/drill_history_week.py` makes the shipped week."
)
WEEK = "drill_history_week.jsonl"
sources = [f"scenarios/{WEEK}", "upload a history", "this session's drills"]
review_src = st.radio("History", sources, horizontal=True, key="w_drill_review_source")
history_text, history_name = None, review_src
if review_src == sources[0]:
    history_text = (scenarios_dir() / WEEK).read_text(encoding="utf-8")
elif review_src == sources[1]:
    hist_up = st.file_uploader("drill history (JSONL, 5 MB)", type=["jsonl", "json"], key="w_drill_review_upload")
    if hist_up is not None:
        history_name = hist_up.name
        try:
            if hist_up.size > MAX_UPLOAD_BYTES:
                raise BudgetError(f"{hist_up.name}: over the {MAX_UPLOAD_BYTES:,}-byte limit")
            history_text = hist_up.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error(f"{hist_up.name}: not UTF-8 text", icon=":material/error:")
        except BudgetError as exc:
            st.error(str(exc), icon=":material/error:")
elif ss.get("drill_history"):
    history_text = "".join(json.dumps(r) + "\n" for r in ss["drill_history"])
else:
    st.info("Run a drill above: each run adds the day's record to this session's history.")
if history_text is not None:
    try:
        result_review = review(history_from_text(history_text, history_name), history_name)
        fired = result_review.fired
        head = (
            f"{len(fired)} of {len(result_review.signals)} signals {'fires' if len(fired) == 1 else 'fire'} "
            f"on {count_of(len(result_review.days), 'day')}"
        )
        (st.warning if fired else st.success)(head + (": " + ", ".join(s.key for s in fired) if fired else ""))
        for sig in result_review.signals:
            mark = {FIRES: ":red[**fires**]", NO_DATA: ":gray[not enough data]"}.get(sig.status, ":green[quiet]")
            with st.expander(f"{sig.symptom} — {sig.status}", expanded=sig.status == FIRES):
                st.markdown(f"{mark}: {sig.finding} (*{sig.meaning}*)")
                if sig.evidence:
                    st.markdown("\n".join(f"- {e}" for e in sig.evidence))
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")
