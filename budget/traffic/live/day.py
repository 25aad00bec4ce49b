"""The live day in the simulator's terms: the store's log turned into the keeper's scenario and run.

The keeper that decides live is the simulator's keeper (``budget.keeper``): the incidents the live
keeper has seen (each arriving when it was first seen), the outages it has noted (a tier down from
the minute it failed to the minute it came back, or still down) and the plan's policy make a
:class:`budget.model.Scenario`; :func:`keeper_at` runs the keeper over it up to a moment, and
:func:`live_result` to the end of the day, for ``budget inspect --result <state>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from budget.keeper.simulate import advance, finish, start_run
from budget.keeper.state import Keeper
from budget.model import BudgetSpec, Incident, Scenario, format_clock, scenario_from_dict

DAY_MIN = 1440


@dataclass
class DayLog:
    """What the store's log of one day says: incidents, outages, decisions, usage."""

    incidents: list[Incident] = field(default_factory=list)
    outages: list[tuple[int, int | None, str]] = field(default_factory=list)  # (down from, up at or None, tier)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    tier_events: list[dict[str, Any]] = field(default_factory=list)  # tiers down and up, and probes, in order


def tick_of(second: float) -> int:
    """The keeper's first tick (minute) at or after ``second``: when the keeper acts on what happened then."""
    return math.ceil(second / 60)


def read_log(events: list[tuple[str, dict[str, Any]]], down_at_start: dict[str, float] | None = None) -> DayLog:
    day = DayLog()
    open_from: dict[str, int] = {t: 0 for t in (down_at_start or {})}
    for kind, body in events:
        if kind == "seen":
            day.incidents.append(incident_of(body))
        elif kind == "down":
            open_from.setdefault(str(body["tier"]), tick_of(body["second"]))
            day.tier_events.append(_tier_event(kind, body))
        elif kind == "up":  # with no down today, the tier was down since before the day began
            tier = str(body["tier"])
            day.outages.append((open_from.pop(tier, 0), tick_of(body["second"]), tier))
            day.tier_events.append(_tier_event(kind, body))
        elif kind == "probe":
            day.tier_events.append(_tier_event("probe answered" if body.get("answered") else "probe failed", body))
        elif kind == "decision":
            day.decisions.append(body)
        elif kind == "usage":
            day.usage.append(body)
    day.outages.extend((start, None, tier) for tier, start in open_from.items())
    day.outages.sort(key=lambda o: (o[0], o[2]))
    day.incidents.sort(key=lambda i: (i.arrival_sec, i.id))
    return day


def incident_of(body: dict[str, Any]) -> Incident:
    """The incident a ``seen`` record notes, arriving the second the keeper first saw it."""
    return Incident(
        str(body["id"]),
        str(body["severity"]),
        int(body["second"]),
        float(body.get("blast_radius", 1)),
        float(body.get("confidence_gap", 0.0)),
    )


def _tier_event(event: str, body: dict[str, Any]) -> dict[str, Any]:
    """One row of the day's tier events: when, which tier, what happened, who said so and why."""
    by = "probe" if event.startswith("probe") else str(body.get("by", "operator"))
    when = hms(int(body["second"]))
    return {"time": when, "tier": body["tier"], "event": event, "by": by, "reason": str(body.get("reason", ""))}


def hms(second: int) -> str:
    """``HH:MM:SS`` of a second of the day."""
    hh, rest = divmod(second, 3600)
    return f"{hh:02d}:{rest // 60:02d}:{rest % 60:02d}"


def scenario_of(
    spec: BudgetSpec, day: DayLog, manual_timeout_sec: float, recovery: str, until_minute: int
) -> tuple[Scenario, list[tuple[int, int, str]]]:
    """The keeper's scenario for the day (its first outage) and the outages after the first one."""
    outages = [(a, max(a + 1, b if b is not None else max(until_minute, a + 1)), t) for a, b, t in day.outages]
    base: dict[str, Any] = {"queue": 0, "manual_timeout_sec": manual_timeout_sec, "recovery": recovery}
    if outages:
        a, b, tier = outages[0]
        base.update(down_tier=tier, start=format_clock(a), duration_min=b - a)
    scenario = scenario_from_dict(base, spec, name="<live day>")
    scenario = scenario.model_copy(update={"incidents": tuple(day.incidents)})
    return scenario, outages[1:]


def keeper_at(
    spec: BudgetSpec, day: DayLog, manual_timeout_sec: float, recovery: str, second: float, to_end: bool = False
) -> Keeper:
    """The keeper run over the day up to its tick for ``second`` (included), or to the day's end."""
    now_tick = tick_of(second)
    scenario, more = scenario_of(spec, day, manual_timeout_sec, recovery, DAY_MIN if to_end else now_tick + 1)
    k = start_run(spec, scenario)
    k.outages.extend(more)
    k.last = max(k.last, now_tick + 1)
    advance(k, until_minute=None if to_end else now_tick + 1)
    return k


def live_result(spec: BudgetSpec, day: DayLog, manual_timeout_sec: float, recovery: str) -> dict[str, Any]:
    """The simulator's result for the live day (its composite query holds or fails as ``simulate``'s would),
    with the live decisions and the tokens the upstreams reported under ``live``: a request the keeper sent
    upstream counts as served by its tier when the upstream answered it, as failed when it did not."""
    last = max([i.arrival_sec for i in day.incidents] + [0])
    k = keeper_at(spec, day, manual_timeout_sec, recovery, last, to_end=True)
    data = dict(finish(k).to_dict())
    counts: dict[str, int] = {}
    served: dict[str, int] = {}
    failed: dict[str, int] = {}
    outcome = {u.get("id"): ("failed" if u.get("failed") else "answered") for u in day.usage if u.get("id")}
    requests = []
    for d in day.decisions:
        counts[d["decision"]] = counts.get(d["decision"], 0) + 1
        upstream = outcome.get(d.get("id"), "") if d["decision"] in SERVED else ""
        if d.get("tier") and upstream:  # sent upstream: served when it answered, failed when it did not
            into = served if upstream == "answered" else failed
            into[d["tier"]] = into.get(d["tier"], 0) + 1
        requests.append(d | {"upstream": upstream})
    tokens: dict[str, int] = {}
    for u in day.usage:
        tokens[u["tier"]] = tokens.get(u["tier"], 0) + int(u.get("total_tokens", 0))
    data["live"] = {
        "requests": len(day.decisions),
        "decisions": dict(sorted(counts.items())),
        "served_by_tier": dict(sorted(served.items())),
        "failed_by_tier": dict(sorted(failed.items())),
        "tokens_by_tier": dict(sorted(tokens.items())),
        "requests_log": requests,
        "tier_events": day.tier_events,
    }
    return data


SERVED = ("serve", "review", "failover")


def spend_rows(day_name: str, day: DayLog, prices: dict[str, float]) -> list[dict[str, Any]]:
    """The day's served requests as LiteLLM spend-log rows (``/spend/logs`` shape), so ``budget fit``
    reads the live day as it reads a proxy's spend logs: one row per reconciled request, tagged with
    its incident and phase, ``status`` failure when the upstream failed."""
    by_id = {d["id"]: d for d in day.decisions}
    rows = []
    for u in day.usage:
        d = by_id.get(u.get("id"))
        if d is None or not u.get("tier"):
            continue
        tokens = int(u.get("total_tokens", 0))
        rows.append(
            {
                "request_id": d["id"],
                "call_type": "acompletion",
                "startTime": f"{day_name}T{hms(int(d['second']))}+00:00",
                "model_group": u["tier"],
                "total_tokens": tokens,
                "spend": round(tokens * prices.get(u["tier"], 0.0) / 1e6, 10),
                "status": "failure" if u.get("failed") else "success",
                "metadata": {"incident_id": d.get("incident"), "phase": d.get("phase"), "keeper": d["decision"]},
            }
        )
    return rows


def alert_lines(day_name: str, day: DayLog) -> str:
    """The day's incidents, as first seen, as JSON-lines alerts (``budget drill --alerts`` replays them)."""
    import json

    out = []
    for inc in day.incidents:
        stamp = f"{day_name}T{hms(inc.arrival_sec)}Z"
        record = {"timestamp": stamp, "id": inc.id, "severity": inc.severity, "blast_radius": inc.blast_radius}
        out.append(json.dumps(record, sort_keys=True))
    return "".join(line + "\n" for line in out)
