"""Spec editor: pick, upload or edit a budget spec; validate, check the split, compile, save."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import yaml

from budget.charts import quota_chart
from budget.errors import BudgetError
from budget.plan import plan_json, proportion_check, summary_line
from budget.spec import parse_split, spec_from_text
from budget.workbench import (
    DEFAULT_SPEC,
    MAX_UPLOAD_BYTES,
    daily_to_quota_sum,
    plan_diff,
    quota_rows,
    read_spec_text,
    save_spec,
    shipped_specs,
    spec_text_from_rows,
)

st.set_page_config(page_title="Spec editor", page_icon=":material/savings:", layout="wide")
ss = st.session_state
ss.setdefault("spec_name", DEFAULT_SPEC)
ss.setdefault("spec_text", read_spec_text(DEFAULT_SPEC))
ss.setdefault("spec_table_version", 0)
ss.setdefault("spec_split", "90/10")

st.title("Spec editor")
st.caption("The daily budget as a table of phases x tiers. The Simulator and Compare pages use the spec chosen here.")


def _pick() -> None:
    name = ss["w_spec_pick"]
    ss["spec_name"] = name
    ss["spec_text"] = read_spec_text(name)
    ss["w_spec_text"] = ss["spec_text"]
    ss["spec_table_version"] += 1


def _typed() -> None:
    ss["spec_text"] = ss["w_spec_text"]
    ss["spec_table_version"] += 1


names = shipped_specs()
source = st.columns([2, 3])
with source[0]:
    current = ss["spec_name"] if ss["spec_name"] in names else names[0]
    st.selectbox("Shipped spec", names, index=names.index(current), key="w_spec_pick", on_change=_pick)
with source[1]:
    upload = st.file_uploader("…or upload a spec (YAML, up to 5 MB)", type=["yaml", "yml"], key="w_spec_upload")
    if upload is not None and ss.get("spec_upload_id") != upload.file_id:
        ss["spec_upload_id"] = upload.file_id
        if upload.size > MAX_UPLOAD_BYTES:
            st.error(f"{upload.name}: {upload.size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit")
        else:
            try:
                ss["spec_text"] = upload.getvalue().decode("utf-8")
                ss["spec_name"] = upload.name
                ss["w_spec_text"] = ss["spec_text"]
                ss["spec_table_version"] += 1
            except UnicodeDecodeError:
                st.error(f"{upload.name}: not UTF-8 text")

spec = None
error = None
try:
    spec = spec_from_text(ss["spec_text"], ss["spec_name"])
except BudgetError as exc:
    error = str(exc)

if error:
    st.error(error, icon=":material/error:")
    if "quota sum" in error and st.button("Set daily_budget_tokens to the quota sum", key="w_spec_fix_daily"):
        ss["spec_text"] = daily_to_quota_sum(ss["spec_text"])
        ss["w_spec_text"] = ss["spec_text"]
        ss["spec_table_version"] += 1
        st.rerun()
else:
    assert spec is not None
    cols = st.columns(len(spec.tiers) + 2)
    cols[0].metric("daily_budget_tokens", f"{spec.daily_budget_tokens:,}")
    for i, tier in enumerate(spec.tiers, 1):
        share = 100 * spec.tier_total(tier) / spec.daily_budget_tokens
        cols[i].metric(
            tier, f"{spec.tier_total(tier):,}", f"{share:.1f}% of the day", delta_color="off", delta_arrow="off"
        )
    cols[-1].metric(
        "quota sum", f"{spec.quota_sum():,}", "matches the daily budget", delta_color="off", delta_arrow="off"
    )

    left, right = st.columns([1, 1])
    with left:
        st.subheader("Quotas (tokens per day)")
        frame = pd.DataFrame(quota_rows(spec))
        edited = st.data_editor(
            frame,
            key=f"w_spec_table_{ss['spec_table_version']}",
            num_rows="dynamic",
            hide_index=True,
            column_config={
                t: st.column_config.NumberColumn(t, min_value=0, step=1000, format="localized") for t in spec.tiers
            },
        )
        if not edited.equals(frame):
            raw = yaml.safe_load(ss["spec_text"]) if ss["spec_text"].strip() else {}
            extra = {k: raw[k] for k in ("tiers", "split", "policy") if isinstance(raw, dict) and k in raw}
            rows = edited.to_dict("records")
            ss["spec_text"] = spec_text_from_rows(rows, list(spec.tiers), spec.daily_budget_tokens, extra)
            ss["w_spec_text"] = ss["spec_text"]
            ss["spec_table_version"] += 1
            st.rerun()
    with right:
        st.altair_chart(quota_chart(spec), width="stretch")

    st.subheader("Proportion check")
    pc = st.columns([2, 1, 3])
    default_split = ss["spec_split"] if len(ss["spec_split"].split("/")) == len(spec.tiers) else ""
    split_text = pc[0].text_input(
        "Target split, cheapest tier first",
        value=default_split,
        key="w_spec_split",
        placeholder="/".join(["x"] * len(spec.tiers)),
    )
    tolerance = pc[1].number_input(
        "Tolerance (points)", min_value=0.0, max_value=50.0, value=1.0, step=0.5, key="w_spec_tol"
    )
    try:
        split = parse_split(split_text, spec.tiers, tolerance) if split_text.strip() else None
        if split_text.strip():
            ss["spec_split"] = split_text
        checks = proportion_check(spec, split)
        table = pd.DataFrame(
            [
                {
                    "tier": c.tier,
                    "tokens": f"{c.tokens:,}",
                    "share %": round(c.share_pct, 2),
                    "target %": c.target_pct,
                    "verdict": "—" if c.ok is None else ("ok" if c.ok else f"off by more than {tolerance:g} pt"),
                }
                for c in checks
            ]
        )
        pc[2].dataframe(table, hide_index=True)
        if split is not None:
            (pc[2].success if all(c.ok for c in checks) else pc[2].error)(
                "split holds" if all(c.ok for c in checks) else "split is off target"
            )
    except BudgetError as exc:
        pc[2].error(str(exc))

with st.expander("Raw YAML", expanded=bool(error)):
    if "w_spec_text" not in ss:
        ss["w_spec_text"] = ss["spec_text"]
    st.text_area("budget_network.yaml", key="w_spec_text", height=420, on_change=_typed)

if spec is not None:
    st.subheader("Compile")
    st.caption(summary_line(spec))
    if st.button("Compile plan", key="w_spec_compile", type="primary"):
        ss["compiled"] = {"text": ss["spec_text"], "plan": plan_json(spec), "diff": plan_diff(spec)}
    compiled = ss.get("compiled")
    if compiled and compiled["text"] != ss["spec_text"]:
        ss.pop("compiled")  # stale: the spec changed since it was compiled
        compiled = None
    if compiled:
        c1, c2 = st.columns(2)
        with c1:
            st.code(compiled["plan"], language="json")
            st.download_button(
                "Download plan JSON",
                compiled["plan"],
                file_name="budget_plan.json",
                mime="application/json",
                key="w_spec_download",
            )
        with c2:
            if not compiled["diff"]:
                st.success(
                    "No difference to the textbook's outputs/budget_plan.example.json", icon=":material/check_circle:"
                )
            else:
                st.warning(f"{len(compiled['diff'])} diff lines against the textbook's example plan")
                st.code("\n".join(compiled["diff"]), language="diff")

    st.subheader("Save as a new spec")
    sc = st.columns([2, 1, 1])
    new_name = sc[0].text_input("File name in specs/", key="w_spec_save_name", placeholder="my_team_80_20")
    overwrite = sc[1].checkbox("overwrite if it exists", key="w_spec_overwrite")
    if sc[2].button("Save", key="w_spec_save"):
        try:
            path = save_spec(new_name, ss["spec_text"], overwrite=overwrite)
            st.success(f"saved specs/{path.name}")
        except BudgetError as exc:
            st.error(str(exc))

st.caption("sla_p95 accepts 30s, 10m, 2h or seconds. control_reserve is the insurance layer, not a phase.")
