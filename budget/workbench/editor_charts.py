"""Charts of the Spec editor's table: pure functions of the table and its check, valid or not."""

from __future__ import annotations

import altair as alt
import pandas as pd

from budget.workbench.editor import QuotaTable, TableCheck, quota_value


def quota_chart(table: QuotaTable) -> alt.Chart:
    """Stacked bars: quota per phase, one colour per tier (tokens); invalid cells count as 0."""
    long = [
        {"phase": r.phase, "tier": t, "tokens": quota_value(r.quotas.get(t))[0] or 0, "tier_order": i}
        for r in table.rows
        for i, t in enumerate(table.tiers)
    ]
    data = pd.DataFrame(long, columns=["phase", "tier", "tokens", "tier_order"])
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("phase:N", sort=table.names(), title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
            x=alt.X("sum(tokens):Q", title="tokens per day", axis=alt.Axis(format="~s")),
            color=alt.Color("tier:N", sort=list(table.tiers), legend=alt.Legend(orient="bottom", columns=2)),
            order=alt.Order("tier_order:Q"),
            tooltip=["phase:N", "tier:N", alt.Tooltip("tokens:Q", format=",d")],
        )
        .properties(title="quota per phase and tier (tokens)", height=alt.Step(30))
    )


def sum_chart(table: QuotaTable, check: TableCheck) -> alt.LayerChart | alt.FacetChart:
    """One bar: each tier's total stacked, against the daily budget drawn as a rule; the difference labelled."""
    parts = pd.DataFrame(
        [
            {"what": "quota sum", "tier": t, "tokens": check.tier_totals[t], "order": i}
            for i, t in enumerate(table.tiers)
        ],
        columns=["what", "tier", "tokens", "order"],
    )
    top = max(check.quota_sum, check.daily or 0, 1) * 1.04
    bar = (
        alt.Chart(parts)
        .mark_bar(height=26)
        .encode(
            x=alt.X(
                "sum(tokens):Q", title="tokens per day", axis=alt.Axis(format="~s"), scale=alt.Scale(domain=[0, top])
            ),
            y=alt.Y("what:N", title=None),
            # the legend under the bar: at 390 px a legend at the right leaves the bar no room
            color=alt.Color(
                "tier:N", sort=list(table.tiers), legend=alt.Legend(orient="bottom", title="tier", columns=2)
            ),
            order=alt.Order("order:Q"),
            tooltip=["tier:N", alt.Tooltip("tokens:Q", format=",d")],
        )
    )
    layers: list[alt.Chart] = [bar]
    subtitle = "daily_budget_tokens is not a positive whole number"
    if check.daily is not None:
        diff = check.difference or 0
        said = "= the daily budget" if diff == 0 else f"{diff:+,} tokens against the daily budget"
        subtitle = f"quota sum {check.quota_sum:,} {said} ({check.daily:,}, the mark)"
        rule = pd.DataFrame({"x": [check.daily], "what": ["quota sum"]})
        layers.append(
            alt.Chart(rule)
            .mark_tick(color="#d62728" if diff else "#2ca02c", thickness=4, size=44)
            .encode(
                x="x:Q", y=alt.Y("what:N", title=None), tooltip=[alt.Tooltip("x:Q", title="daily budget", format=",d")]
            )
        )
    return alt.layer(*layers).properties(
        height=alt.Step(34),  # the bar's band: a fixed height would be the whole chart's, titles and legend included
        title=alt.TitleParams(
            "quota sum against the daily budget (tokens per day)", subtitle=subtitle, anchor="start", limit=0
        ),
    )
