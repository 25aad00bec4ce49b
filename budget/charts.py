"""Altair charts built from results: pure functions, testable without Streamlit."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from budget.spec import BudgetSpec
from budget.workbench import quota_rows

FLOOR_LINE = 0.5
DAY = "2026-01-01 "


def _times(rows: list[dict[str, Any]]) -> pd.Series:
    """Clock times as datetimes; ``00:30+1d`` (past midnight of a replayed day) lands on the next day."""
    out = []
    for r in rows:
        clock, _, days = r["time"].partition("+")
        t = pd.Timestamp(DAY + clock)
        if days:
            t += pd.Timedelta(days=int(days.rstrip("d")))
        out.append(t)
    return pd.Series(out)


def timeline_frame(result: dict[str, Any], label: str | None = None) -> pd.DataFrame:
    rows = result.get("timeline", [])
    df = pd.DataFrame(
        {
            "time": _times(rows),
            "token_health": [r["token_health"] for r in rows],
            "failover (running)": [r["failover"] for r in rows],
            "degraded": [r["degraded"] for r in rows],
            "manual": [r["manual"] for r in rows],
            "waiting for routing": [r["pending"] for r in rows],
        }
    )
    if label is not None:
        df["run"] = label
    return df


def _outage_band(result: dict[str, Any]) -> alt.Chart | None:
    rows = result.get("timeline", [])
    down = [r["time"] for r in rows if r["down"]]
    if not down:
        return None
    start = pd.to_datetime(DAY + down[0])
    end = pd.to_datetime(DAY + down[-1]) + pd.Timedelta(minutes=1)
    band = pd.DataFrame({"start": [start], "end": [end], "what": [f"{result.get('down_tier')} down"]})
    return (
        alt.Chart(band)
        .mark_rect(opacity=0.12, color="#d62728")
        .encode(x="start:T", x2="end:T", tooltip=[alt.Tooltip("what:N", title="outage")])
    )


def health_chart(result: dict[str, Any], title: str = "token_health per minute") -> alt.LayerChart | alt.FacetChart:
    """token_health with the guard (alert_threshold) and the 0.5 floor, the outage shaded."""
    df = timeline_frame(result)
    guard = float(result.get("alert_threshold", 0.6))
    line = (
        alt.Chart(df)
        .mark_line(point=False, strokeWidth=2)
        .encode(
            x=alt.X("time:T", title="time of day (HH:MM)", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("token_health:Q", title="token_health (0-1)", scale=alt.Scale(domain=[0, 1])),
            tooltip=[alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("token_health:Q", format=".2f")],
        )
    )
    names = [f"guard {guard:.2f}", f"floor {FLOOR_LINE:.2f}"]
    rules = pd.DataFrame({"y": [guard, FLOOR_LINE], "line": names})
    rule = (
        alt.Chart(rules)
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y="y:Q",
            color=alt.Color(
                "line:N",
                title=None,
                scale=alt.Scale(domain=names, range=["#ff7f0e", "#7f7f7f"]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    layers: list[alt.Chart] = [line, rule]
    band = _outage_band(result)
    if band is not None:
        layers.insert(0, band)
    return alt.layer(*layers).properties(title=title, height=280)


def queue_chart(result: dict[str, Any]) -> alt.Chart:
    """Tasks by state per minute: failover running, degraded, manual, waiting for routing."""
    df = timeline_frame(result)
    long = df.melt(
        id_vars=["time"],
        value_vars=["failover (running)", "degraded", "manual", "waiting for routing"],
        var_name="queue",
        value_name="tasks",
    )
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("time:T", title="time of day (HH:MM)", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("tasks:Q", title="tasks (count)"),
            color=alt.Color("queue:N", title="queue", legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("time:T", format="%H:%M"), "queue:N", "tasks:Q"],
        )
        .properties(title="queues per minute", height=240)
    )


def quota_chart(spec: BudgetSpec) -> alt.Chart:
    """Stacked bars: quota per phase, one colour per tier (tokens)."""
    rows = quota_rows(spec)
    long = [{"phase": r["phase"], "tier": t, "tokens": r[t]} for r in rows for t in spec.tiers]
    order = [r["phase"] for r in rows]
    return (
        alt.Chart(pd.DataFrame(long))
        .mark_bar()
        .encode(
            y=alt.Y("phase:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
            x=alt.X("sum(tokens):Q", title="tokens per day", axis=alt.Axis(format=",d")),
            color=alt.Color("tier:N", sort=list(spec.tiers), legend=alt.Legend(orient="bottom")),
            order=alt.Order("tier_order:Q"),
            tooltip=["phase:N", "tier:N", alt.Tooltip("tokens:Q", format=",d")],
        )
        .transform_calculate(tier_order=f"indexof({list(spec.tiers)!r}, datum.tier)")
        .properties(title="quota per phase and tier", height=alt.Step(34))
    )


def overlay_health_chart(
    runs: dict[str, dict[str, Any]], guard: float = 0.6, title: str = "token_health, runs overlaid"
) -> alt.LayerChart | alt.FacetChart:
    """Several runs' token_health on one chart, x = minutes since the outage start."""
    frames = []
    for label, result in runs.items():
        df = timeline_frame(result, label)
        df["minute"] = range(len(df))
        frames.append(df[["minute", "token_health", "run"]])
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["minute", "token_health", "run"])
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("minute:Q", title="minutes since the run starts"),
            y=alt.Y("token_health:Q", title="token_health (0-1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("run:N", title="run", legend=alt.Legend(orient="bottom", columns=2, labelLimit=260)),
            tooltip=["run:N", "minute:Q", alt.Tooltip("token_health:Q", format=".2f")],
        )
    )
    rule = alt.Chart(pd.DataFrame({"y": [guard]})).mark_rule(strokeDash=[6, 4], color="#ff7f0e").encode(y="y:Q")
    return alt.layer(lines, rule).properties(title=title, height=300)


def drill_health_chart(drill: dict[str, Any]) -> alt.LayerChart | alt.FacetChart:
    """token_health over the replayed day, one line per outage length, with the guard."""
    frames = []
    for label, rows in drill.get("timelines", {}).items():
        frames.append(
            pd.DataFrame({"time": _times(rows), "token_health": [r["token_health"] for r in rows], "run": label})
        )
    data = pd.concat(frames, ignore_index=True)
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.8)
        .encode(
            x=alt.X("time:T", title="time of day (HH:MM)", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("token_health:Q", title="token_health (0-1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("run:N", title="run", legend=alt.Legend(orient="bottom")),
            tooltip=["run:N", alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("token_health:Q", format=".2f")],
        )
    )
    guard = float(drill.get("fail_under", 0.6))
    rule = alt.Chart(pd.DataFrame({"y": [guard]})).mark_rule(strokeDash=[6, 4], color="#ff7f0e").encode(y="y:Q")
    return alt.layer(lines, rule).properties(title=f"token_health per outage (guard {guard:.2f} dashed)", height=300)


def flow_chart(per_hour: list[int]) -> alt.Chart:
    """Alerts per hour of the replayed day."""
    df = pd.DataFrame({"hour": [f"{h:02d}:00" for h in range(24)], "alerts": per_hour})
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("hour:O", title="hour of the day (UTC)"),
            y=alt.Y("alerts:Q", title="alerts per hour"),
            tooltip=["hour:O", "alerts:Q"],
        )
        .properties(title="alert flow over the day", height=220)
    )


def calibration_heatmap(rows: list[dict[str, Any]], outage: int) -> alt.LayerChart | alt.FacetChart:
    """token_health_min at one outage over frontier share x control reserve (worst over the other knobs)."""
    key = f"token_health_min_{outage}m"
    df = pd.DataFrame(rows)
    df = df.groupby(["frontier_share", "control_reserve"], as_index=False)[key].min()
    df["frontier share"] = (df["frontier_share"] * 100).round(1).astype(str) + "%"
    df["reserve"] = (df["control_reserve"] / 1e6).round(2).astype(str) + "M"
    order_x = [f"{round(v * 100, 1)}%" for v in sorted(df["frontier_share"].unique())]
    order_y = [f"{round(v / 1e6, 2)}M" for v in sorted(df["control_reserve"].unique())]
    base = alt.Chart(df).encode(
        x=alt.X("frontier share:O", sort=order_x, title="frontier share of the day"),
        y=alt.Y("reserve:O", sort=order_y[::-1], title="control_reserve (tokens)"),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            f"{key}:Q",
            title=f"token_health_min at {outage} min",
            scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
        ),
        tooltip=["frontier share:O", "reserve:O", alt.Tooltip(f"{key}:Q", format=".2f")],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{key}:Q", format=".2f"))
    return alt.layer(rect, text).properties(title=f"token_health_min at a {outage}-minute outage", height=260)
