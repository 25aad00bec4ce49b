"""Spec editor: the current spec as a table that stays whatever its state; live sum, shares, checks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from budget.errors import BudgetError
from budget.model import SLA_KEY, plan_json, summary_line
from budget.workbench import (
    CHECK,
    DEFAULT_SPEC,
    EXAMPLE_PLAN,
    PHASE,
    ROW_TOTAL,
    QuotaTable,
    SpecExists,
    add_phase,
    add_tier,
    apply_edits,
    check_table,
    daily_to_sum,
    delete_phase,
    delete_tier,
    editor_rows,
    plan_diff,
    quota_chart,
    reference_plan_for,
    rename_phase,
    rename_tier,
    save_spec,
    set_daily,
    sum_chart,
    table_from_text,
    table_to_text,
)
from ui import current, read_upload

ss = st.session_state
cur = current()

st.title("Spec editor")
st.caption(
    "The current spec (picked in the sidebar) as a table of phases x tiers, in tokens per day. Edit a cell, add a "
    "row at the bottom, rename or delete; every page uses what you see here. Invalid cells and rows are marked."
)


def _commit(table: QuotaTable) -> None:
    cur.edit(table_to_text(table))


def _op(fn, *args) -> None:  # type: ignore[no-untyped-def]
    """Run a table operation from a button; a refused one is kept as a one-line message."""
    try:
        _commit(fn(ss["editor_table"], *args))
        ss.pop("editor_note", None)
    except BudgetError as exc:
        ss["editor_note"] = str(exc)


def _table_edited(key: str) -> None:
    table, notes = apply_edits(ss["editor_table"], ss[key])
    _commit(table)
    ss["editor_note"] = "; ".join(notes) if notes else None


def _yaml_typed(key: str) -> None:
    cur.edit(ss[key])


def _tokens_table(rows: list[dict[str, object]]) -> None:
    """A small read-only table, its tokens/day with thousands separators and its shares to two decimals.

    A plain table, not a grid: two or three rows need no sorting or scrolling, and each grid costs the
    page's first visit some 0.2 s of drawing."""
    shown = [
        {
            k: f"{v:,}" if k == "tokens/day" and isinstance(v, int) else f"{v:.2f}" if isinstance(v, float) else v
            for k, v in row.items()
        }
        for row in rows
    ]
    st.table(pd.DataFrame(shown), hide_index=True)


def _daily_typed(key: str) -> None:
    if ss[key] is not None:
        _commit(set_daily(ss["editor_table"], int(ss[key])))


# ---- source: undo, reset, upload -------------------------------------------------------------
bar = st.columns([1, 1.4, 3])
bar[0].button("Undo", key="w_spec_undo", icon=":material/undo:", disabled=not cur.can_undo, on_click=cur.undo)
reset_label = "Reset to the shipped file" if cur.origin == "shipped" else "Reset to the loaded file"
bar[1].button(
    reset_label,
    key="w_spec_reset",
    icon=":material/restart_alt:",
    disabled=cur.text == cur.original,
    on_click=cur.reset,
)
upload = bar[2].file_uploader("…or upload a spec (YAML, up to 5 MB)", type=["yaml", "yml"], key="w_spec_upload")
if upload is not None and ss.get("spec_upload_id") != upload.file_id:
    ss["spec_upload_id"] = upload.file_id
    try:
        cur.load(upload.name, read_upload(upload), "upload")
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")

# ---- the table, whatever the spec's state ----------------------------------------------------
parse_error = None
try:
    table = table_from_text(cur.text, cur.name)
    ss["editor_table_text"] = cur.text
except ValueError as exc:  # BudgetError, or the YAML reader's own complaint (a 5,000-digit number)
    parse_error = str(exc) if isinstance(exc, BudgetError) else f"{cur.name}: {exc}"
    table = table_from_text(ss.get("editor_table_text") or cur.original, cur.name)
ss["editor_table"] = table

spec = cur.spec
if spec is not None:
    st.success(f"{cur.name} is valid: {summary_line(spec)}. Every page uses it.", icon=":material/check_circle:")
elif parse_error:
    st.error(parse_error, icon=":material/error:")
    st.warning("The YAML does not parse: the table shows its last version that did. Fix the YAML or Undo.")
else:
    st.error(cur.error, icon=":material/error:")

declared = spec.split if spec is not None else None
default_split = declared and "/".join(f"{v:g}" for v in declared.target.values())
s = st.columns([1, 1, 1, 1])
split = s[0].text_input(
    "Target split, cheapest tier first (%)",
    value=ss.get("spec_split") or default_split or ("90/10" if len(table.tiers) <= 2 else "80/20"),
    key="w_spec_split",
    help="90/10, or 80/20 over three tiers (the cheap tiers together against the most expensive)",
)
ss["spec_split"] = split
tolerance = s[1].number_input("Tolerance (points)", 0.0, 50.0, 1.0, 0.5, key="w_spec_tol")
check = check_table(table, split, tolerance)
daily_key = f"w_spec_daily_{cur.revision}"
s[2].number_input(
    "daily_budget_tokens (tokens/day)",
    min_value=0,
    value=check.daily,
    step=100_000,
    key=daily_key,
    on_change=_daily_typed,
    args=(daily_key,),
    disabled=bool(parse_error),
)
diff = check.difference
s[3].metric(
    "quota sum − daily budget",
    "n/a" if diff is None else f"{diff:+,}",
    "tokens",
    delta_color="off",
    delta_arrow="off",
    help="0 when every quota, control_reserve included, adds up to daily_budget_tokens",
)
st.altair_chart(sum_chart(table, check), width="stretch")
if diff:
    fix = st.columns([1, 1])
    fix[0].button(
        f"Set the daily budget to the quota sum ({check.quota_sum:,})",
        key="w_spec_fix_daily",
        on_click=_op,
        args=(daily_to_sum,),
    )
    fix[1].caption("…or move quota between phases in the table until the difference is 0.")
for problem in check.problems:
    if "quota sum" not in problem or spec is not None:
        st.warning(problem, icon=":material/warning:")
if ss.get("editor_note"):
    st.warning(ss["editor_note"], icon=":material/info:")

frame = pd.DataFrame(editor_rows(table, check), columns=[PHASE, *table.tiers, SLA_KEY, ROW_TOTAL, CHECK])
styled = frame.style.map(
    lambda v: "background-color: #fde0dd; color: #8b0000" if str(v).startswith("⚠") else "", subset=[CHECK]
)
all_ok = all(str(v) == "ok" for v in frame[CHECK])
table_key = f"w_spec_table_{cur.revision}"
st.data_editor(
    styled,
    key=table_key,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    disabled=[ROW_TOTAL, CHECK] if not parse_error else True,
    on_change=_table_edited,
    args=(table_key,),
    # the check beside the phase it judges: at 390 px the last columns are off-screen, never the check
    column_order=[PHASE, CHECK, *table.tiers, SLA_KEY, ROW_TOTAL],
    column_config={
        PHASE: st.column_config.TextColumn("phase", help="a phase of the SDD pipeline, or control_reserve"),
        **{
            t: st.column_config.NumberColumn(t, help="tokens per day", min_value=0, step=1, format="localized")
            for t in table.tiers
        },
        SLA_KEY: st.column_config.TextColumn("sla_p95", help="30s, 10m, 2h or seconds; none for control_reserve"),
        ROW_TOTAL: st.column_config.NumberColumn("row total", help="tokens per day", format="localized"),
        # narrow while every row is ok: with three tiers a medium "ok" column pushed the row total off at 1280 px
        CHECK: st.column_config.TextColumn(
            "check", width="small" if all_ok else "medium", help="what breaks a rule in the row"
        ),
    },
)

if check.row_issues:
    st.warning(
        "Rows to fix:\n"
        + "\n".join(
            f"- **{table.rows[i].phase or '(no name)'}**: {'; '.join(why)}" for i, why in check.row_issues.items()
        ),
        icon=":material/warning:",
    )

left, right = st.columns([1, 1])
with left:
    st.subheader("Per tier and against the split")
    if [r.tier for r in check.shares] != list(table.tiers):  # the split groups tiers: show each tier too
        _tokens_table(
            [
                {
                    "tier": t,
                    "tokens/day": check.tier_totals[t],
                    "share %": round(100 * check.tier_totals[t] / check.quota_sum, 2) if check.quota_sum else 0,
                }
                for t in table.tiers
            ]
        )
    if check.split_error:
        st.error(check.split_error, icon=":material/error:")
    else:
        _tokens_table(
            [
                {
                    "tiers": r.tier,
                    "verdict": "—" if r.ok is None else ("ok" if r.ok else f"off by more than {tolerance:g} pt"),
                    "share %": round(r.share_pct, 2),
                    "target %": r.target_pct,
                    "tokens/day": r.tokens,
                }
                for r in check.shares
            ]
        )
        if all(r.ok for r in check.shares):
            st.success("split holds", icon=":material/check_circle:")
        elif any(r.ok is False for r in check.shares):
            st.error("split is off target", icon=":material/cancel:")
with right:
    st.altair_chart(quota_chart(table), width="stretch")

# its widgets are made only once it is opened (a rerun): closed, they cost a first visit their drawing
with st.expander("Add, rename or delete phases and tiers", key="w_spec_manage", on_change="rerun") as manage:
    if manage.open:
        st.markdown("**Phases** (a new phase goes before control_reserve, with 0 tokens until you fill its row)")
        a = st.columns([2, 1, 1, 2], vertical_alignment="bottom")
        a[0].text_input("new phase", key="w_spec_new_phase", placeholder="e.g. audit")
        a[1].text_input("its sla_p95", key="w_spec_new_sla", placeholder="5m")
        a[2].button(
            "Add phase",
            key="w_spec_add_phase",
            icon=":material/add:",
            on_click=lambda: _op(add_phase, ss["w_spec_new_phase"], ss["w_spec_new_sla"]),
        )
        names = table.names()
        r = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
        r[0].selectbox("phase", names, key="w_spec_phase_pick")
        r[1].text_input("its new name", key="w_spec_phase_name")
        r[2].button(
            "Rename",
            key="w_spec_rename_phase",
            on_click=lambda: _op(rename_phase, ss["w_spec_phase_pick"], ss["w_spec_phase_name"]),
            disabled=not names,
        )
        r[3].button(
            "Delete",
            key="w_spec_delete_phase",
            icon=":material/delete:",
            on_click=lambda: _op(delete_phase, ss["w_spec_phase_pick"]),
            disabled=not names,
        )
        st.markdown("**Tiers** (cheapest first; a new tier goes before the most expensive, with 0 tokens everywhere)")
        b = st.columns([2, 1, 3], vertical_alignment="bottom")
        b[0].text_input("new tier", key="w_spec_new_tier", placeholder="e.g. mid-coder")
        b[1].button(
            "Add tier",
            key="w_spec_add_tier",
            icon=":material/add:",
            on_click=lambda: _op(add_tier, ss["w_spec_new_tier"]),
        )
        r = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
        r[0].selectbox("tier", list(table.tiers), key="w_spec_tier_pick")
        r[1].text_input("its new name", key="w_spec_tier_name")
        r[2].button(
            "Rename",
            key="w_spec_rename_tier",
            on_click=lambda: _op(rename_tier, ss["w_spec_tier_pick"], ss["w_spec_tier_name"]),
            disabled=not table.tiers,
        )
        r[3].button(
            "Delete",
            key="w_spec_delete_tier",
            icon=":material/delete:",
            on_click=lambda: _op(delete_tier, ss["w_spec_tier_pick"]),
            disabled=not table.tiers,
        )

with st.expander("YAML (edit here or in the table)", expanded=bool(parse_error)):
    text_key = f"w_spec_text_{cur.revision}"
    st.text_area(cur.name, value=cur.text, key=text_key, height=420, on_change=_yaml_typed, args=(text_key,))
    st.download_button("Download the YAML", cur.text, file_name=cur.name, key="w_spec_yaml_download")

if spec is not None:
    st.subheader("Compile")
    if st.button("Compile plan", key="w_spec_compile", type="primary"):
        reference = reference_plan_for(cur.name)
        ss["compiled"] = {
            "text": cur.text,
            "plan": plan_json(spec),
            "diff": plan_diff(spec) if reference else None,
            "reference": reference.as_posix() if reference else None,
        }
    compiled = ss.get("compiled")
    if compiled and compiled["text"] != cur.text:
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
            if compiled.get("reference") is None:
                st.info(
                    f"No reference plan ships for {cur.name}: the textbook's example "
                    f"({EXAMPLE_PLAN.as_posix()}) is the plan of {DEFAULT_SPEC}, so there is nothing to diff.",
                    icon=":material/info:",
                )
            elif not compiled["diff"]:
                st.success(
                    f"No difference to {compiled['reference']} (the textbook's plan of {cur.name})",
                    icon=":material/check_circle:",
                )
            else:
                st.warning(f"{len(compiled['diff'])} diff lines against {compiled['reference']} (of {cur.name})")
                st.code("\n".join(compiled["diff"]), language="diff")

    st.subheader("Save as a new spec")
    sc = st.columns([3, 1])
    new_name = sc[0].text_input("File name in specs/", key="w_spec_save_name", placeholder="my_team_80_20")
    if sc[1].button("Save", key="w_spec_save"):
        ss.pop("spec_save_ask", None)
        try:
            path = save_spec(new_name, cur.text)
            st.success(f"saved specs/{path.name}: pick it in the sidebar from now on")
        except SpecExists as exc:
            ss["spec_save_ask"] = (new_name, cur.text, str(exc).split(" exists")[0])
        except BudgetError as exc:
            st.error(str(exc), icon=":material/error:")
    ask = ss.get("spec_save_ask")
    if ask and ask[:2] != (new_name, cur.text):
        ss.pop("spec_save_ask")  # the name or the spec changed: the question no longer applies
    elif ask:
        st.warning(f"{ask[2]} exists. Overwrite it with the current spec?", icon=":material/warning:")
        yes, no = st.columns(2)
        if yes.button("Overwrite it", key="w_spec_overwrite_yes", type="primary"):
            ss.pop("spec_save_ask")
            try:
                path = save_spec(new_name, cur.text, overwrite=True)
                st.success(f"replaced specs/{path.name}")
            except BudgetError as exc:
                st.error(str(exc), icon=":material/error:")
        if no.button("Keep the file", key="w_spec_overwrite_no"):
            ss.pop("spec_save_ask")
            st.info("Nothing written: save under another name.")
else:
    st.subheader("Compile and save")
    st.caption("They come back once the spec is valid: fix what is marked above, or Undo.")

st.caption("sla_p95 accepts 30s, 10m, 2h or seconds. control_reserve is the insurance layer, not a phase.")
