"""The seven signals of ``budget review``: the calibration appendix's five and the drill's two.

Each reads the days of one spec's history and returns a :class:`~budget.drill.signal.Signal` with its
evidence (days, outages, task ids); docs/model.md gives every rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from budget.drill.signal import (
    EVIDENCE_IDS,
    FIRES,
    HEALTH_FLOOR,
    MONTH_DAYS,
    QUIET,
    SHORT_OUTAGE_MIN,
    SPEND_FLOOR,
    WEEK_DAYS,
    Day,
    Signal,
    number,
)
from budget.errors import BudgetError
from budget.files import count_of
from budget.keeper import health_text


def _no_degraded_mode(days: list[Day], name: str) -> Signal:
    s = Signal.of("no_degraded_mode")
    have = _series(days, name, "baseline", "degraded_queue")
    if not have:
        s.finding = "no record has the day's degraded count (records of an older drill)"
        return s
    last = have[-1][0].day
    window = [(d, v) for d, v in have if d.day > last - timedelta(days=MONTH_DAYS)]
    degraded = [(d, v) for d, v in window if v and v > 0]
    if degraded:
        s.status = QUIET
        s.finding = f"degraded mode on {len(degraded)} of {count_of(len(window), 'day')} of the last month"
        s.evidence = [f"{d.label}: {int(v or 0)} tasks degraded on the day as it happened" for d, v in degraded]
    elif (last - have[0][0].day).days + 1 >= MONTH_DAYS:
        s.status = FIRES
        s.finding = f"no task degraded on any of {len(window)} days from {window[0][0].label} to {last.isoformat()}"
    else:
        span = (last - have[0][0].day).days + 1
        s.finding = f"no degraded mode in {count_of(span, 'day')} of history; the signal needs {MONTH_DAYS}"
    return s


def _health_below_half(days: list[Day], name: str) -> Signal:
    s = Signal.of("health_below_half")
    have = _series(days, name, "token_health_min")
    if not have:
        s.finding = "no record has token_health_min"
        return s
    low = [(d, v) for d, v in have if v < HEALTH_FLOOR]
    for d, _ in low:
        week = [(e, v) for e, v in low if d.day <= e.day < d.day + timedelta(days=WEEK_DAYS)]
        if len(week) > 1:
            s.status = FIRES
            s.finding = f"{len(week)} days below {HEALTH_FLOOR} within the week from {d.label}"
            s.evidence = [f"{e.label}: token_health_min {v:.4f} ({_worst_outage(e)})" for e, v in week]
            return s
    span = (have[-1][0].day - have[0][0].day).days + 1
    if span >= WEEK_DAYS:
        s.status = QUIET
        s.finding = f"{count_of(len(low), 'day')} below {HEALTH_FLOOR} in {span} days, never two within a week"
        s.evidence = [f"{d.label}: token_health_min {v:.4f}" for d, v in low]
    else:
        s.finding = (
            f"{count_of(len(low), 'day')} below {HEALTH_FLOOR} in {count_of(span, 'day')}; a week of history is needed"
        )
    return s


def _series(days: list[Day], name: str, *path: str) -> list[tuple[Day, float]]:
    """The days whose record has the number at ``path``, with it."""
    out = []
    for d in days:
        v = number(d.rec, f"{name}:{d.line}", *path)
        if v is not None:
            out.append((d, v))
    return out


def _ids(run: dict[str, Any], key: str, count: float | None = None) -> str:
    """The task ids a record keeps at ``key`` (at most EVIDENCE_IDS), and how many it left out: ``count`` is
    how many there were; without it a full list says that the record keeps only the first ones."""
    ids = run.get(key)
    if not isinstance(ids, list):
        return ""
    text = ", ".join(str(i) for i in ids)
    if count is not None and count > len(ids):
        return f"{text} and {int(count) - len(ids)} more"
    if count is None and len(ids) >= EVIDENCE_IDS:
        return f"{text} (the record keeps the first {EVIDENCE_IDS})"
    return text


def _worst_outage(d: Day) -> str:
    outages = d.rec.get("outages") or {}
    if not isinstance(outages, dict) or not outages:
        return "worst outage"
    worst = min(outages, key=lambda k: outages[k] if isinstance(outages[k], (int, float)) else math.inf)
    return f"at the {worst}-minute outage"


def _guard_held(d: Day, name: str) -> str:
    """Said of a day whose no-outage run is itself below the guard: the token_health guard, which blocks
    automatic failover below it, was breached without any outage, so it (not the failover gate) held the
    failover; "" when the record does not show that."""
    guard = number(d.rec, f"{name}:{d.line}", "fail_under")
    alone = number(d.rec, f"{name}:{d.line}", "baseline", "token_health_min")
    if guard is None or alone is None or alone >= guard:
        return ""
    return (
        f"the day is below the {guard:.2f} guard without any outage (token_health_min {health_text(alone)}), "
        "so the guard, not the gate, held the failover"
    )


def _failover_stuck(days: list[Day], name: str) -> Signal:
    s = Signal.of("failover_stuck")
    stuck, seen, held = [], 0, 0
    for d in days:
        runs = {m: r for m, r in d.runs(name).items() if (number(r, f"{name}:{d.line}", "critical") or 0) > 0}
        if not runs:
            continue
        seen += 1
        key = "failover_total" if all("failover_total" in r for r in runs.values()) else "failover_to_frontier"
        if all(number(r, f"{name}:{d.line}", key) == 0 for r in runs.values()):
            guard = _guard_held(d, name)
            held += bool(guard)
            stuck.append(
                f"{d.label}: "
                + (f"{guard}; " if guard else "")
                + "no failover in the "
                + ", ".join(
                    f"{m}m outage ({int(r['critical'])} P0/P1 arrived; waited: "
                    f"{_ids(r, 'critical_waited_ids', number(r, f'{name}:{d.line}', 'critical_waited'))})"
                    for m, r in sorted(runs.items())
                )
            )
    which = (
        "that day is"
        if len(stuck) == 1
        else f"all {held} are"
        if held == len(stuck)
        else f"{held} of them {'is' if held == 1 else 'are'}"
    )
    cause = f"; {which} below the guard even without an outage, so the guard, not the gate, held it" if held else ""
    return s.conclude(
        stuck,
        seen,
        f"failover stayed at 0 on {len(stuck)} of {count_of(seen, 'day')}{cause}",
        f"failover worked on {'the one day' if seen == 1 else f'every one of {seen} days'} with P0/P1 arriving "
        "in an outage",
        "no P0/P1 task arrived during a drilled outage (or the records predate the field)",
    )


def _manual_growth(days: list[Day], name: str) -> Signal:
    s = Signal.of("manual_growth")
    months: dict[str, dict[int, list[float]]] = {}
    for d in days:
        for m, r in d.runs(name).items():
            v = number(r, f"{name}:{d.line}", "manual_after_timeout")
            if v is not None:
                months.setdefault(d.day.strftime("%Y-%m"), {}).setdefault(m, []).append(v)
    keys = sorted(months)
    if len(keys) < 3 or not _consecutive(keys[-3:]):
        covered = f"{count_of(len(keys), 'month')} ({', '.join(keys) or 'none'})"
        s.finding = f"the history covers {covered}; growth twice needs 3"
        return s
    last3 = [months[k] for k in keys[-3:]]
    grew = []
    for m in sorted(set.intersection(*(set(x) for x in last3))):
        means = [sum(x[m]) / len(x[m]) for x in last3]
        if means[0] < means[1] < means[2]:
            grew.append(f"{m}m outage: " + " -> ".join(f"{k} {v:.1f}" for k, v in zip(keys[-3:], means, strict=True)))
    s.status = FIRES if grew else QUIET
    s.finding = (
        f"the daily mean grew in {', '.join(keys[-2:])}" if grew else f"no two-month growth over {', '.join(keys[-3:])}"
    )
    s.evidence = grew
    return s


def _consecutive(months: list[str]) -> bool:
    idx = [int(m[:4]) * 12 + int(m[5:7]) for m in months]
    return all(b - a == 1 for a, b in zip(idx, idx[1:], strict=False))


def percent_down(share: float) -> str:
    """A share as a percent with one decimal, rounded DOWN: a day the test finds under 60 % (``share < 0.60``)
    never reads 60.0 %: 0.5981 is 59.8 %, 0.6 is 60.0 %. Computed in decimal, so 0.29 stays 29.0 %."""
    if not math.isfinite(share):
        return str(share)
    return f"{(Decimal(repr(float(share))) * 100).quantize(Decimal('0.1'), rounding=ROUND_FLOOR)}%"


def _low_spend(days: list[Day], name: str) -> Signal:
    s = Signal.of("low_spend")
    have = _series(days, name, "baseline", "spent_share")
    if not have:
        s.finding = "no record has the day's spend (records of an older drill)"
        return s
    low = [(d, v) for d, v in have if v < SPEND_FLOOR]
    s.status = FIRES if low else QUIET
    s.finding = f"{len(low)} of {count_of(len(have), 'day')} spent under {SPEND_FLOOR:.0%}"
    s.evidence = [
        f"{d.label}: {percent_down(v)} of {int(d.rec.get('daily_budget_tokens', 0)):,} spent"
        for d, v in (low or have[-1:])
    ]
    return s


def _failover_too_wide(days: list[Day], name: str) -> Signal:
    s = Signal.of("failover_too_wide")
    wide, seen = [], 0
    for d in days:
        for m, r in sorted(d.runs(name).items()):
            n = number(r, f"{name}:{d.line}", "frontier_noncritical")
            if m > SHORT_OUTAGE_MIN or n is None:
                continue
            seen += 1
            if n > 0:
                wide.append(f"{d.label}, {m}m outage: {int(n)} P2/P3 tasks ({_ids(r, 'frontier_noncritical_ids', n)})")
    return s.conclude(
        wide,
        seen,
        f"{len(wide)} of {count_of(seen, 'short outage')}",
        f"the expensive tier took only P0/P1 in {count_of(seen, 'short outage')}",
        f"no drilled outage of {SHORT_OUTAGE_MIN} minutes or less with the evidence recorded",
    )


def _manual_nervous(days: list[Day], name: str) -> Signal:
    s = Signal.of("manual_nervous")
    nervous, seen = [], 0
    for d in days:
        limit = number(d.rec, f"{name}:{d.line}", "queue_limit")
        for m, r in sorted(d.runs(name).items()):
            if "manual_opened" not in r or limit is None:
                continue
            seen += 1
            opened = r["manual_opened"]
            if opened is not None and not isinstance(opened, dict):
                raise BudgetError(f"{name}:{d.line}: runs.{m}.manual_opened: must be a record or null")
            if opened is not None:
                q = number(opened, f"{name}:{d.line}", "queue")
                if q is None:
                    raise BudgetError(f"{name}:{d.line}: runs.{m}.manual_opened.queue: missing")
                if q <= limit:
                    into = _minutes_into(d.rec.get("start"), opened.get("time"))
                    nervous.append(
                        f"{d.label}, {m}m outage: opened at {opened.get('time')}"
                        + (f", {into} min into the outage," if into is not None else "")
                        + f" by the manual timeout, with {int(q)} open tasks "
                        f"(limit {int(limit)}): {_ids(opened, 'tasks')}"
                    )
    return s.conclude(
        nervous,
        seen,
        f"{len(nervous)} of {count_of(seen, 'outage')}"
        + (
            "; each time the manual timeout opened the channel (its first tasks had waited it out in the degraded "
            "queue), below the queue limit"
            if nervous
            else ""
        ),
        f"in {count_of(seen, 'outage')} the channel stayed shut or opened above the queue limit",
        "no record has the manual channel's opening (records of an older drill)",
    )


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\+(\d+)d)?")


def _minutes_into(start: object, time: object) -> int | None:
    """Whole minutes from an outage's start (``11:00``) to a decisions-log time (``11:02``, ``11:02:30``,
    ``00:10+1d``); None when either is not such a time."""
    marks = []
    for value in (start, time):
        m = _TIME.fullmatch(value) if isinstance(value, str) else None
        if m is None:
            return None
        h, mi, sec, day = (int(x or 0) for x in m.groups())
        marks.append(day * 86400 + h * 3600 + mi * 60 + sec)
    return (marks[1] - marks[0]) // 60 if marks[1] >= marks[0] else None


SIGNALS: tuple[Callable[[list[Day], str], Signal], ...] = (
    _no_degraded_mode,
    _health_below_half,
    _failover_stuck,
    _manual_growth,
    _low_spend,
    _failover_too_wide,
    _manual_nervous,
)
