"""Altair charts built from results: pure functions, testable without Streamlit."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from budget.keeper import health_text

FLOOR_LINE = 0.5
DAY = "2026-01-01 "
# distinct hues for runs drawn together (colour-blind safe order), and the reference lines
RUN_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
BASELINE_COLOUR = "#7f7f7f"
GUARD_COLOUR = "#ff7f0e"
FLOOR_COLOUR = "#222222"


# the chart fits the page's width; its height is the plot's, with the title, axes and legends added below:
# Streamlit's default ("fit") squeezes all of them into the given height, and a legend that wraps on a
# 390 px screen left the plot a band of some 80 px
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


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
            tooltip=[alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("token_health:Q", format=".4f")],
        )
    )
    layers: list[alt.Chart] = [line, _reference_lines(guard)]
    band = _outage_band(result)
    if band is not None:
        layers.insert(0, band)
    return alt.layer(*layers).properties(title=title, height=220, autosize=FIT_WIDTH)


def _reference_lines(guard: float) -> alt.Chart:
    """The guard (alert_threshold) and the 0.5 floor as labelled dashed rules, with their own legend."""
    names = [f"guard {guard:.2f}", f"floor {FLOOR_LINE:.2f}"]
    rules = pd.DataFrame({"y": [guard, FLOOR_LINE], "line": names})
    return (
        alt.Chart(rules)
        .mark_rule(strokeDash=[6, 4], strokeWidth=1.5)
        .encode(
            y="y:Q",
            strokeDash=alt.StrokeDash(
                "line:N", title=None, scale=alt.Scale(domain=names, range=[[6, 4], [2, 2]]), legend=None
            ),
            color=alt.Color(
                "line:N",
                title="lines",
                scale=alt.Scale(domain=names, range=[GUARD_COLOUR, FLOOR_COLOUR]),
                # one under the other: beside the runs' legend a 390 px screen has no room for them in a row
                legend=alt.Legend(orient="bottom", columns=1),
            ),
        )
    )


def _run_colours(labels: list[str], baseline: str | None = None) -> alt.Scale:
    """One distinct colour per run, in order; the baseline (no outage) grey."""
    colours, i = [], 0
    for label in labels:
        if label == baseline:
            colours.append(BASELINE_COLOUR)
        else:
            colours.append(RUN_COLOURS[i % len(RUN_COLOURS)])
            i += 1
    return alt.Scale(domain=labels, range=colours)


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
            color=alt.Color("queue:N", title="queue", legend=alt.Legend(orient="bottom", columns=2)),
            tooltip=[alt.Tooltip("time:T", format="%H:%M"), "queue:N", "tasks:Q"],
        )
        .properties(title="tasks per queue, minute by minute", height=240, autosize=FIT_WIDTH)
    )


def overlay_health_chart(
    runs: dict[str, dict[str, Any]], guard: float = 0.6, title: str = "token_health, runs overlaid"
) -> alt.LayerChart | alt.FacetChart:
    """Several runs' token_health on one chart, x = minutes since the run starts, one distinct colour each."""
    frames = []
    for label, result in runs.items():
        df = timeline_frame(result, label)
        df["minute"] = range(len(df))
        frames.append(df[["minute", "token_health", "run"]])
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["minute", "token_health", "run"])
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=2.2)
        .encode(
            x=alt.X("minute:Q", title="minutes since the run starts (min)"),
            y=alt.Y("token_health:Q", title="token_health (0-1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "run:N",
                title="run",
                scale=_run_colours(list(runs)),
                legend=alt.Legend(orient="bottom", columns=1, labelLimit=320),
            ),
            tooltip=["run:N", alt.Tooltip("minute:Q", title="minute"), alt.Tooltip("token_health:Q", format=".4f")],
        )
    )
    return (
        alt.layer(lines, _reference_lines(guard))
        .resolve_scale(color="independent", strokeDash="independent")
        .properties(title=title, height=240, autosize=FIT_WIDTH)
    )


OUTAGE_LEAD_MIN = 15  # minutes shown before the outage starts in the focused drill chart
OUTAGE_TAIL_MIN = 90  # minutes shown after the longest outage ends


def drill_health_chart(drill: dict[str, Any], focus: bool = True) -> alt.LayerChart | alt.FacetChart:
    """token_health per outage length, one distinct colour and dash each, with the guard and the floor.

    ``focus``: only the outage window (15 minutes before the start to 90 after the longest outage
    ends), where the runs differ; otherwise the whole replayed day.
    """
    labels = list(drill.get("timelines", {}))
    frames = [
        pd.DataFrame({"time": _times(rows), "token_health": [r["token_health"] for r in rows], "run": label})
        for label, rows in drill.get("timelines", {}).items()
    ]
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["time", "token_health", "run"])
    window = ""
    if focus and drill.get("start") and len(data):
        start = pd.Timestamp(DAY + drill["start"])
        longest = max([int(m) for m in drill.get("outages", [])] or [0])
        lo = start - pd.Timedelta(minutes=OUTAGE_LEAD_MIN)
        hi = start + pd.Timedelta(minutes=longest + OUTAGE_TAIL_MIN)
        data = data[(data["time"] >= lo) & (data["time"] <= hi)]
        window = f", {lo:%H:%M}-{hi:%H:%M}"
    baseline = next((x for x in labels if x.startswith(("none", "no outage", "0"))), None)
    dashes = [[1, 0], [8, 3], [4, 2], [2, 2], [10, 2, 2, 2]]
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=2.2)
        .encode(
            x=alt.X("time:T", title="time of day (HH:MM)", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("token_health:Q", title="token_health (0-1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("run:N", title="outage", scale=_run_colours(labels, baseline)),
            strokeDash=alt.StrokeDash(
                "run:N", scale=alt.Scale(domain=labels, range=[dashes[i % len(dashes)] for i in range(len(labels))])
            ),
            tooltip=["run:N", alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("token_health:Q", format=".4f")],
        )
    )
    guard = float(drill.get("fail_under", 0.6))
    return (
        alt.layer(lines, _reference_lines(guard))
        .resolve_scale(color="independent", strokeDash="independent")
        .properties(title=f"token_health per outage length{window}", height=260, autosize=FIT_WIDTH)
    )


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
        .properties(title="alert flow over the day", height=180, autosize=FIT_WIDTH)
    )


def calibration_heatmap(
    rows: list[dict[str, Any]], outage: int, recommended: dict[str, Any] | None = None
) -> alt.LayerChart | alt.FacetChart:
    """token_health_min at one outage over frontier share x control reserve (worst over the other knobs).

    The recommended variant's cell is outlined and starred.
    """
    key = f"token_health_min_{outage}m"
    df = pd.DataFrame(rows)
    df = df.groupby(["frontier_share", "control_reserve"], as_index=False)[key].min()
    df["shown"] = df[key].map(health_text)  # the workbench's one rounding rule (rounded down)
    df["frontier share"] = df["frontier_share"].map(_share_label)
    df["reserve"] = df["control_reserve"].map(_reserve_label)
    order_x = [_share_label(v) for v in sorted(df["frontier_share"].unique())]
    order_y = [_reserve_label(v) for v in sorted(df["control_reserve"].unique())]
    x = alt.X("frontier share:O", sort=order_x, title="frontier share of the day (%)")
    y = alt.Y("reserve:O", sort=order_y[::-1], title="control_reserve (tokens)")
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect().encode(
        color=alt.Color(
            f"{key}:Q",
            title="token_health_min",
            scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
            legend=alt.Legend(orient="bottom", gradientLength=160),
        ),
        tooltip=["frontier share:O", "reserve:O", alt.Tooltip("shown:N", title=key)],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("shown:N"))
    layers: list[alt.Chart] = [rect, text]
    if recommended is not None:
        mark = pd.DataFrame(
            {
                "frontier share": [_share_label(recommended["frontier_share"])],
                "reserve": [_reserve_label(recommended["control_reserve"])],
                "what": ["recommended"],
            }
        )
        star = alt.Chart(mark).encode(x=x, y=y, tooltip=["what:N"])
        layers += [
            star.mark_rect(fill=None, stroke="#000000", strokeWidth=3),
            star.mark_text(text="★", dx=-20, fontSize=15, fontWeight="bold"),
        ]
    return alt.layer(*layers).properties(
        title=alt.TitleParams(
            f"{outage}-minute outage",
            subtitle="token_health_min, worst over the other knobs; ★ = recommended",
        ),
        height=280,
    )


def _share_label(v: float) -> str:
    return f"{round(v * 100, 1):g}%"


def _reserve_label(v: float) -> str:
    return f"{round(v / 1e6, 2):g}M"
