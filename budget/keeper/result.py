"""The result of a run: the metrics a user checks, the per-minute timeline and the decisions log."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from budget.keeper.recovery import second_dip
from budget.keeper.state import Keeper
from budget.keeper.task import clock, num
from budget.model import SEVERITIES, Scenario, format_clock

# Result field names a user checks; the app's labels come from here too.
RESULT_LABELS: dict[str, str] = {
    "failover_to_frontier": "tasks failed over to the most expensive tier",
    "failover_by_tier": "tasks failed over, per tier that took them",
    "failover_total": "tasks failed over to any tier",
    "degraded_queue": "tasks that waited in the degraded queue",
    "manual_queue": "tasks moved to the manual channel",
    "token_health_min": "lowest token_health of the run",
    "reserve_capacity_tasks": "whole tasks the failover allowance can pay for",
    "mttr_p95": "95th percentile time to resolve, seconds",
    "escalation_share": "share of tasks that reached the expensive tier",
    "silent_p0": "share of P0 closed without any escalation",
    "unresolved_manual_ratio": "share of manual tasks still open at the end",
    "postmortem_gap": "share of resolved tasks without a postmortem at the end",
    "mid_tier_saturation": "peak share of the middle tier's per-minute capacity used",
}


def manual_key(timeout_sec: float) -> str:
    """``manual_queue_after_120s``: the textbook's key, named after the actual timeout."""
    return f"manual_queue_after_{int(timeout_sec) if float(timeout_sec).is_integer() else timeout_sec}s"


@dataclass
class SimResult:
    """What :func:`budget.keeper.simulate` returns; :meth:`to_dict` is the JSON the CLI writes."""

    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"


def health_text(value: float, places: int = 2) -> str:
    """token_health shown with ``places`` decimals, rounded DOWN (the one rounding rule of the workbench).

    A health figure is never shown above what the run observed, so a shown figure and a guard with as
    many decimals agree: 0.555 is 0.55 (below a 0.56 guard, as it is), 0.5996 is 0.59 (it breaches 0.60),
    never 0.60. The stored value (four decimals in a result) is read as written, so 0.57 stays 0.57.
    """
    if not math.isfinite(value):
        return str(value)
    step = Decimal(1).scaleb(-places)
    return str(Decimal(repr(float(value))).quantize(step, rounding=ROUND_FLOOR))


def failover_summary(data: dict[str, Any]) -> str:
    """``failover_to_frontier N``, with the per-tier breakdown when more than one tier takes failover.

    The summary line of ``budget simulate`` and of the Simulator page: a three-tier plan names the tier that
    served (``failover_to_frontier 0 (failed over: mid-coder 14, frontier-reviewer 0)``); a two-tier plan's
    line is the chapter's.
    """
    text = f"failover_to_frontier {data['failover_to_frontier']}"
    by_tier = data.get("failover_by_tier")
    if isinstance(by_tier, dict) and len(by_tier) > 1:
        text += " (failed over: " + ", ".join(f"{t} {n}" for t, n in by_tier.items()) + ")"
    return text


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    i = max(0, math.ceil(q * len(s)) - 1)
    return s[i]


def r4(x: float, nd: int = 4) -> float:
    return round(x + 0.0, nd)


def timeline_row(k: Keeper, minute: int) -> dict[str, Any]:
    states = k.snap_states
    by_phase = k.snap_phase
    spent = {t: round(k.spent_tier[i]) for i, t in enumerate(k.tiers)}
    return {
        "time": format_clock(minute),
        "token_health": r4(k.health),
        "h_frontier": r4(k.h_parts[0]),
        "h_plan": r4(k.h_parts[1]),
        "h_backlog": r4(k.h_parts[2]),
        "down": sorted(k.down),
        "red_button": k.red_active,
        "stage": k.stage,
        **states,
        "queue_by_phase": by_phase,
        "spent": spent,
        "reserve_used": round(sum(k.reserve_used.values())),
        "rework_owed": round(k.snap_owed),
    }


def _trend(k: Keeper) -> float:
    """The most negative change of token_health over 5 minutes."""
    trend = 0.0
    hist = [1.0] + k.health_hist
    for i in range(5, len(hist)):
        trend = min(trend, hist[i] - hist[i - 5])
    if len(hist) <= 5 and len(hist) > 1:
        trend = min(trend, hist[-1] - hist[0])
    return trend


def _tiers(k: Keeper) -> dict[str, Any]:
    out = {}
    for tier in k.tiers:
        spent = sum(k.spent[k.slot(i, tier)] for i in range(len(k.phase_names)))
        out[tier] = {
            "quota": int(k.quota_total[tier]),
            "spent": round(spent),
            "remaining": round(k.quota_total[tier] - spent),
            "failover_allowance": round(k.allowance[tier]) if tier != k.tiers[0] else 0,
            "failover_tokens": round(k.unplanned[tier]),
            "reserve": int(k.spec.reserve.get(tier, 0)),
            "reserve_used": round(k.reserve_used[tier]),
            "capacity_tpm": round(k.cap[k.tier_index[tier]]),
            "capacity_peak_use": r4(k.peak_use[k.tier_index[tier]]),
        }
    return out


def served_tier(k: Keeper) -> str:
    """The tier that took the most failovers (ties: the more expensive); the most expensive when none did."""
    best = k.tiers[-1]
    for tier in reversed(k.tiers[1:]):
        if k.failover_by.get(tier, 0) > k.failover_by.get(best, 0):
            best = tier
    return best


def mid_tier_saturation(k: Keeper) -> float:
    """Peak share of a middle tier's capacity used in one minute (the busiest middle tier; 0 with two tiers)."""
    middle = k.tiers[1:-1]
    return max((k.peak_use[k.tier_index[t]] for t in middle), default=0.0)


def _phases(k: Keeper) -> dict[str, Any]:
    return {
        name: {
            t: {
                "quota": int(k.spec.phases[name].quotas.get(t, 0)),
                "spent": round(k.spent[k.slot(i, t)]),
                "remaining": round(k.remaining[k.slot(i, t)]),
            }
            for t in k.tiers
        }
        for i, name in enumerate(k.phase_names)
    }


def decisions(k: Keeper) -> list[dict[str, Any]]:
    return [
        {
            "id": t.inc.id,
            "severity": t.severity,
            "blast_radius": num(t.inc.blast_radius),
            "arrival": clock(t.arrival_sec),
            "route": t.route,
            "resolved_at": clock(t.resolved_at) if t.resolved_at is not None else None,
            "time_to_resolve_sec": (t.resolved_at - t.arrival_sec) if t.resolved_at is not None else None,
            "waited_min": t.wait_min,
            "events": [{"time": clock(e[0]), "action": e[1], "reason": e[2]} for e in (t.events or [])],
        }
        for t in k.tasks
    ]


def build_result(k: Keeper, sc: Scenario, first: int, last: int, include_decisions: bool = True) -> dict[str, Any]:
    p = k.p
    tasks = k.tasks
    horizon_end = last * 60
    # one pass over the tasks counts what the result reports of them
    resolve_times: list[int] = []  # arrival to resolution (or to the horizon), a task
    critical_times: list[int] = []  # the same, of P0 and P1 tasks
    sla = {s: 0 for s in SEVERITIES}
    p0 = silent = manual = unresolved_manual = resolved = no_pm = escalated = 0
    has_pm = k.pm_index is not None
    for t in tasks:
        end = t.resolved_at if t.resolved_at is not None else horizon_end
        took = end - t.arrival_sec
        resolve_times.append(took)
        if took > k.sla[t.severity]:
            sla[t.severity] += 1
        if t.severity in ("P0", "P1"):
            critical_times.append(took)
        if t.severity == "P0":
            p0 += 1
            silent += t.silent_p0
        if t.route == "manual":
            manual += 1
            unresolved_manual += not t.manual_closed
        if t.resolved_at is not None:
            resolved += 1
            no_pm += has_pm and not t.postmortem_done
        escalated += t.escalated
    n = len(tasks)
    target = k.tiers[-1]
    th_min = min(k.health_hist) if k.health_hist else 1.0
    min_at = k.health_hist.index(th_min) if k.health_hist else 0
    data: dict[str, Any] = {
        "down_tier": sc.down_tier,
        "duration_min": sc.duration_min,
        "queue": sc.queue,
        "manual_timeout_sec": num(sc.manual_timeout_sec),
        "failover_to_frontier": k.failover_by.get(target, 0),
        "degraded_queue": k.counts["degraded"],
        manual_key(sc.manual_timeout_sec): k.counts["manual_timeout"],
        "token_health_min": r4(th_min),
        "reserve_capacity_tasks": int(k.allowance[target] // k.W) if len(k.tiers) > 1 else 0,
        "start": sc.start,
        "policy": sc.routing,
        "failover_tier": served_tier(k),
        "failover_by_tier": dict(k.failover_by),
        "failover_total": k.counts["failover"],
        "manual_queue": manual,
        "manual_by_guard": k.counts["manual_guard"],
        "manual_by_intake_limit": k.counts["manual_intake"],
        "token_health_min_at": format_clock(first + min_at),
        "alert_threshold": p.alert_threshold,
        "guard": {
            "alert_threshold": p.alert_threshold,
            "breached": th_min < p.alert_threshold,
            "first_breach": k.guard_breaches[0] if k.guard_breaches else None,
            "margin": r4(th_min - p.alert_threshold),
        },
        "mttr_p95": round(percentile(resolve_times, 0.95)),
        "mttr_p95_critical": round(percentile(critical_times, 0.95)),
        "escalation_share": r4(escalated / n if n else 0.0),
        "escalation_ratio": r4(escalated / n if n else 0.0),
        "silent_p0": r4(silent / p0 if p0 else 0.0),
        "unresolved_manual_ratio": r4(unresolved_manual / manual if manual else 0.0),
        "postmortem_gap": r4(no_pm / resolved if resolved else 0.0),
        "sla_breaches": sla,
        "token_health_trend_5m": r4(_trend(k)),
        "queue_pressure": r4(k.max_open / p.queue_limit),
        "mid_tier_saturation": r4(mid_tier_saturation(k)),
        "degraded_mode_duration": k.degraded_minutes * 60,
        "red_button": {
            "activated": k.red_activated,
            "active_minutes": k.red_minutes,
            "events": k.red_events,
        },
        "red_button_review": k.red_activated or bool(k.guard_breaches),
        "recovery": {
            "mode": sc.recovery,
            "stages": k.stage_events,
            "relapses": k.relapses,
            "second_dip": r4(second_dip(k, first)),
        },
        "manual_channel_open": manual > 0,
        "frontier_reserved_for_p0_p1": not k.frontier_for_low,
        "incidents": n,
        "tiers": _tiers(k),
        "phases": _phases(k),
        "reserve_used": round(sum(k.reserve_used.values())),
    }
    data["timeline"] = k.timeline
    if include_decisions:
        data["decisions"] = decisions(k)
    return data
