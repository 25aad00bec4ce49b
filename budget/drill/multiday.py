"""The drill over a history of several days: each day drilled alone, then the worst of them.

Each day of the history (``budget.drill.days``) is replayed as the daily drill
replays one day (``budget.drill.replay.run_drill``). Over all days, each outage
length reports its lowest token_health_min and the day it fell on, the
highest mttr_p95 and escalation share, the manual queue summed over the
days, and the days on which it fell below the guard; a day whose no-outage
run is itself below the guard is named, since an outage is not what breaks it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from budget.drill.replay import CSV_COLUMNS, DrillResult
from budget.keeper import health_text


def over_all_days(results: Sequence[DrillResult]) -> dict[str, Any]:
    """The days' figures per outage length (see the module's doc); ``below_guard`` lists the days that fell."""
    days = [r.report.get("day", "") for r in results]
    outages: dict[str, dict[str, Any]] = {}
    for day, result in zip(days, results, strict=True):
        for run in result.runs:
            key = str(run["outage_min"])
            o = outages.setdefault(
                key,
                {"token_health_min": 1.0, "worst_day": day, "mttr_p95": 0, "escalation_share": 0.0, "manual_queue": 0},
            )
            if run["token_health_min"] < o["token_health_min"]:
                o["token_health_min"], o["worst_day"] = run["token_health_min"], day
            o["mttr_p95"] = max(o["mttr_p95"], run["mttr_p95"])
            o["escalation_share"] = max(o["escalation_share"], run["escalation_share"])
            o["manual_queue"] += run["manual_queue"]
            o.setdefault("days_below_guard", [])
            if run["token_health_min"] < result.fail_under:  # the no-outage run's too: the day itself breaches
                o["days_below_guard"].append(day)
    worst = min(results, key=lambda r: r.worst)
    return {
        "days": days,
        "token_health_min": worst.worst,
        "worst_day": worst.report.get("day", ""),
        "below_guard": [d for d, r in zip(days, results, strict=True) if r.below_guard],
        "outages": outages,
    }


def days_json(results: Sequence[DrillResult]) -> str:
    """The JSON of a drill over several days: each day's drill result, and the figures over all days."""
    doc = {"days": [r.to_dict() for r in results], "over_all_days": over_all_days(results)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def days_csv(results: Sequence[DrillResult]) -> str:
    """The drill tables of every day as one CSV, with the day first."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("day", *CSV_COLUMNS))
    for result in results:
        for run in result.runs:
            w.writerow([result.report.get("day", ""), *(run[c] for c in CSV_COLUMNS)])
    return out.getvalue()


def summary_lines(results: Sequence[DrillResult]) -> list[str]:
    """Over all days: per outage, the lowest token_health_min and its day, and the days below the guard."""
    total = over_all_days(results)
    lines = [f"over {len(results)} days ({total['days'][0]} to {total['days'][-1]}):"]
    for minutes, o in total["outages"].items():
        label = "no outage" if minutes == "0" else f"{minutes}m outage"
        below = o["days_below_guard"]
        lines.append(
            f"  {label:>11}: token_health_min {health_text(o['token_health_min'])} ({o['worst_day']}), "
            f"mttr_p95 up to {o['mttr_p95']}s, manual {o['manual_queue']} in all"
            + (
                f"; below the guard on {len(below)} day{'' if len(below) == 1 else 's'}: {', '.join(below)}"
                if below
                else ""
            )
        )
    for result in results:  # a day below the guard without an outage: its outages are not the cause
        note = result.baseline_note()
        if note:
            lines.append(f"  {result.report.get('day', '')}: {note}")
    return lines
