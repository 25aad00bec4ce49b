"""Calibrate: sweep the split, reserve, manual timeout and guard against outage drills."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from budget.calibration import calibrate, grid, price_of, propose, spec_yaml
from budget.drill import load_alerts, run_drill
from budget.errors import BudgetError
from budget.gateway import load_checks
from budget.keeper import health_text
from budget.model import spec_from_text
from budget.workbench import (
    calibration_heatmap,
    scenarios_dir,
    specs_dir,
    sweep_defaults,
    sweep_estimate,
    sweep_flags,
)
from ui import current, load_shipped, need_spec, spec_label, table, workbook, workbook_pair

HEATMAP_PX = 440

ss = st.session_state
CHAPTER_SPEC = "payment_gateway_80_20_mid.yaml"
CONFIRM_ABOVE = 300  # variants: a larger sweep asks first, with its estimate
OUTAGES = (15, 30, 45)


@st.cache_data(show_spinner=False, max_entries=8)
def seconds_per_drill_run(spec_text: str, spec_name: str, alerts_name: str) -> float:
    """One 45-minute outage replay of the base spec, timed: the unit of the sweep's estimate."""
    spec = spec_from_text(spec_text, spec_name)
    incidents, _ = load_alerts(scenarios_dir() / alerts_name)
    t0 = time.perf_counter()
    run_drill(spec, incidents, outages=[45], baseline=False, keep_timelines=False)
    return time.perf_counter() - t0


st.title("Calibrate")
st.caption("Find the cheapest plan that holds under outage drills and passes the gateway.")

cur = current()
spec_name = cur.name
c = st.columns([2, 2])
c[0].markdown(f"**Base spec** (the current spec)  \n`{cur.name}` · {cur.state}")
if cur.name != CHAPTER_SPEC:
    c[0].button(
        f"Make the chapter's {CHAPTER_SPEC} the current spec",
        key="w_cal_chapter_spec",
        on_click=load_shipped,
        args=(CHAPTER_SPEC,),
        help="Every page then uses it (the Gateway page's outage runs too); pick another in the sidebar to go back.",
    )
streams = sorted(p.name for p in scenarios_dir().glob("*.jsonl"))
alerts_name = c[1].selectbox("Alert stream", streams, key="w_cal_alerts")

# the widgets start from budget calibrate's own defaults (its parser), so the default sweep is the README's
SWEEP = sweep_defaults()
pct = [round(x * 100, 4) for x in SWEEP.shares]
share_step_default = round(pct[1] - pct[0], 4) if len(pct) > 1 else 5.0
# two rows, so every chip shows whole at 1280 px: the shares and the five reserves, then step, timeouts, guards
s = st.columns([1, 2]) + st.columns(3)
share_range = s[0].slider(
    "Frontier share of the day (%)", 1.0, 40.0, (pct[0], pct[-1]), step=0.5, key="w_cal_shares", format="%g"
)
share_step = s[2].select_slider(
    "step (%)", sorted({1.0, 2.5, 5.0, share_step_default}), value=share_step_default, key="w_cal_step"
)
reserves = s[1].multiselect(
    "control_reserve (tokens)",
    sorted({350_000, 700_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 4_000_000, *SWEEP.reserves}),
    default=list(SWEEP.reserves),
    key="w_cal_reserves",
    format_func=lambda r: f"{r / 1e6:g}M",
    help="tokens held back for the guard and manual decisions (0.7M = 700,000)",
)
timeouts = s[3].multiselect(
    "manual timeout (s)",
    sorted({30, 60, 120, 300, *(int(x) for x in SWEEP.timeouts)}),
    default=[int(x) for x in SWEEP.timeouts],
    key="w_cal_timeouts",
)
guards = s[4].multiselect(
    "guard (alert_threshold)",
    sorted({0.55, 0.60, 0.65, 0.70, *SWEEP.thresholds}),
    default=list(SWEEP.thresholds),
    key="w_cal_guards",
    format_func=lambda g: f"{g:.2f}",
)
t = st.columns(3)
t15 = t[0].number_input("target at 15 min", 0.0, 1.0, SWEEP.targets.get(15, 0.70), 0.05, key="w_cal_t15")
t30 = t[1].number_input("target at 30 min", 0.0, 1.0, SWEEP.targets.get(30, 0.50), 0.05, key="w_cal_t30")
use_gate = t[2].checkbox("the gateway must pass too", value=True, key="w_cal_gate")

shares = []
x = float(share_range[0])
while x <= share_range[1] + 1e-9 and len(shares) <= 400:  # bounded: 40 % in steps of 0.1 at the most
    shares.append(round(x / 100, 4))
    x = round(x + share_step, 4)
flags = sweep_flags(shares, reserves, timeouts, guards, {15: t15, 30: t30}, SWEEP)
errors = []
base = need_spec()
confirmed = True
variants = []
try:
    variants = grid(shares, reserves, timeouts, guards)
    if base is not None:
        per_run = seconds_per_drill_run(cur.text, cur.name, alerts_name)
        estimate = sweep_estimate(len(variants), len(OUTAGES), per_run)
        on_chapter = cur.name == CHAPTER_SPEC
        st.caption(
            (
                "The default sweep is `budget calibrate`'s (the README's exercise 8)."
                if on_chapter
                else f"The default sweep is `budget calibrate`'s, on {cur.name}: the README's exercise 8 sweeps "
                f"{CHAPTER_SPEC} (the button above makes it the current spec)."
            )
            if not flags
            else f"This sweep differs from `budget calibrate`'s default: {' '.join(flags)}."
        )
        st.caption(
            f"{len(variants)} variants x {len(OUTAGES)} outages (15, 30, 45 min) on all cores: about {estimate} "
            f"({per_run:.2f} s per replay of the day on this machine)."
        )
        if len(variants) > CONFIRM_ABOVE:
            confirmed = st.checkbox(
                f"Yes, run all {len(variants):,} variants (about {estimate}; the page waits until it ends)",
                key="w_cal_confirm",
            )
except BudgetError as exc:
    errors.append(str(exc))
for e in errors:
    st.error(e, icon=":material/error:")

signature = (cur.text, alerts_name, tuple(shares), tuple(reserves), tuple(timeouts), tuple(guards), t15, t30, use_gate)
if st.button("Run the sweep", key="w_cal_run", type="primary", disabled=bool(errors) or base is None or not confirmed):
    bar = st.progress(0.0, text="sweeping…")
    try:
        incidents, _ = load_alerts(scenarios_dir() / alerts_name)
        checks = load_checks(specs_dir() / "validation" / "budget_gate.yaml") if use_gate else None
        cal = calibrate(
            base,
            incidents,
            variants,
            targets={15: t15, 30: t30},
            checks=checks,
            progress=lambda f: bar.progress(f, text=f"sweeping… {f:.0%}"),
            base_name=spec_name,
        )
        best = cal.recommended
        ss["cal_result"] = {
            "signature": signature,
            "rows": [r.to_dict() for r in cal.rows],
            "csv": cal.csv(),
            "best": best.to_dict() if best else None,
            "yaml": spec_yaml(cal.recommended_spec, f"Recommended by the Calibrate page from {spec_name}")
            if cal.recommended_spec
            else None,
            "base_cost": price_of(base),
            "currency": base.policy.currency,
            "gateway_note": cal.gateway_note(),  # why variants below 0.50 read "gateway pass"
            "row_notes": cal.row_notes(),
            "guard_note": cal.guard_note(),  # the guard is an axis of the sweep, not kept from the base spec
        }
    except BudgetError as exc:
        st.error(str(exc), icon=":material/error:")
    bar.empty()

held = ss.get("cal_result")
if held and held["signature"] != signature:
    st.info("The sweep's settings changed: run it again.")
    held = None
if held:
    best = held["best"]
    if best is None:
        st.error("No variant meets the targets: widen the sweep.", icon=":material/cancel:")
    else:
        money = held.get("currency", "USD")
        st.success(
            f"Recommended: frontier {best['frontier_share']:.1%}, control_reserve {best['control_reserve']:,} tokens, "
            f"manual timeout {best['manual_timeout_sec']:g} s, guard {best['alert_threshold']:.2f} — "
            f"{best['daily_budget_tokens']:,} tokens a day, {best['cost_per_day']:.2f} {money} a day "
            f"(base plan {held['base_cost']:.2f} {money} a day)"
            + (f"\n\n{held['guard_note'][0].upper()}{held['guard_note'][1:]}." if held.get("guard_note") else ""),
            icon=":material/check_circle:",
        )
        m = st.columns(3)
        for i, minutes in enumerate(OUTAGES):
            m[i].metric(f"token_health_min at {minutes} min (0-1)", health_text(best[f"token_health_min_{minutes}m"]))
        b = st.columns(2)
        b[0].download_button(
            "Download the recommended spec", held["yaml"], file_name="recommended.yaml", key="w_cal_download"
        )
        if b[1].button("Make it the current spec and simulate", key="w_cal_use"):
            current().load("recommended.yaml", held["yaml"], "calibrate")
            st.switch_page("pages/2_Simulator.py")
    h = st.columns(2)
    # the element holds the whole chart: title and subtitle, 280 px of cells, the axis labels and the legend
    # (a smaller element cuts the title off; "content" squeezes the cells of this layered chart to nothing)
    h[0].altair_chart(calibration_heatmap(held["rows"], 15, best), width="stretch", height=HEATMAP_PX)
    h[1].altair_chart(calibration_heatmap(held["rows"], 30, best), width="stretch", height=HEATMAP_PX)
    money = held.get("currency", "USD")
    main = [
        "meets_targets",
        "token_health_min_15m",
        "token_health_min_30m",
        "token_health_min_45m",
        "gateway",
        "cost_per_day",
        "alert_threshold",
        "frontier_share",
        "control_reserve",
        "manual_timeout_sec",
    ]
    frame = pd.DataFrame(held["rows"])
    for minutes in OUTAGES:  # one rounding rule for token_health: down, as the metrics above and the CLI
        column = f"token_health_min_{minutes}m"
        if column in frame:
            frame[column] = [float(health_text(v)) for v in frame[column]]
    config = {
        "meets_targets": st.column_config.CheckboxColumn("meets targets"),
        "cost_per_day": st.column_config.NumberColumn(f"cost ({money}/day)", format="%.2f"),
        "control_reserve": st.column_config.NumberColumn("reserve (tokens)", format="localized"),
        "daily_budget_tokens": st.column_config.NumberColumn("daily budget (tokens)", format="localized"),
        "frontier_share": st.column_config.NumberColumn("frontier", format="percent"),
        "manual_timeout_sec": st.column_config.NumberColumn("timeout (s)"),
        "alert_threshold": st.column_config.NumberColumn("guard", format="%.2f"),
    }
    for minutes in OUTAGES:
        config[f"token_health_min_{minutes}m"] = st.column_config.NumberColumn(
            f"{minutes} min", format="%.2f", help=f"token_health_min at a {minutes}-minute outage (0-1)"
        )
    table(
        frame[[c for c in main if c in frame]],
        "cal_sweep",
        "sweep.csv",
        height=300,
        column_config=config,
        csv=held["csv"],
    )
    if held.get("gateway_note"):
        st.caption(f"**Gateway pass below 0.50.** {held['gateway_note']} Each such row's note is in the full table.")
    frame["note"] = [held.get("row_notes", {}).get(i, "") for i in frame["index"]]
    with st.expander("Every column of the sweep (guard, daily budget, why, note)"):
        st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
    entry = workbook().record(
        "Calibrate",
        f"sweep of {spec_name}",
        f"budget calibrate --budget-spec {spec_label(cur)} --alerts scenarios/{alerts_name}"
        + (" --validation specs/validation/budget_gate.yaml" if use_gate else "")
        + "".join(f" {f}" for f in flags)
        + " --out out/recommended.yaml --csv out/sweep.csv",
        f"{len(held['rows'])} variants, {sum(1 for r in held['rows'] if r['meets_targets'])} meet the targets; "
        + (
            f"recommended frontier {best['frontier_share']:.1%}, reserve {best['control_reserve']:,} tokens: "
            f"{best['cost_per_day']:.2f} {money} a day"
            if best
            else "none recommended"
        ),
    )
    workbook_pair(entry)

st.subheader("A starting plan from the chapter's Low / Default / High table")
p = st.columns(4)
n = p[0].number_input("incidents a day", 1, 100_000, 200, key="w_prop_n")
cost = p[1].number_input("tokens per incident", 1_000, 500_000, 50_000, step=5_000, key="w_prop_cost")
disputed = p[2].number_input("share of disputed reviews", 0.0, 1.0, 0.10, 0.01, key="w_prop_disputed")
outages = p[3].number_input("local-coder outages a month", 0.0, 60.0, 3.0, 1.0, key="w_prop_outages")
try:
    prop = propose(int(n), int(cost), float(disputed), float(outages))
    st.code(prop.text, language="yaml")
    st.download_button("Download the starting plan", prop.text, file_name="starting_plan.yaml", key="w_prop_download")
except BudgetError as exc:
    st.error(str(exc), icon=":material/error:")
