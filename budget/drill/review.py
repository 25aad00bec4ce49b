"""``budget review``: the signals to revisit the thresholds, read from a drill history.

The calibration appendix's five signals and the drill's two, each evaluated on
the history's records of one spec (one record per day: a day drilled twice
counts its last run). Every signal is ``fires``, ``quiet`` or ``not enough
data`` (the history is too short, or its records predate the field the signal
reads), never a pass by default; each names its evidence (days, outages, task
ids). docs/model.md gives every rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from budget.errors import BudgetError, UsageError
from budget.files import MAX_HISTORY_BYTES, parse_json_text, read_text

FIRES, QUIET, NO_DATA = "fires", "quiet", "not enough data"
HEALTH_FLOOR = 0.5  # token_health_min below this more than once a week: local tier too small
SPEND_FLOOR = 0.60  # less than this share of daily_budget_tokens spent in a day: shrink the budget
MONTH_DAYS = 30
WEEK_DAYS = 7
SHORT_OUTAGE_MIN = 15  # the drill's short outage


RULES = {  # key: (the rule as the chapter words it, what it means)
    "no_degraded_mode": ("no degraded_mode activation in a month", "the budget is too big"),
    "health_below_half": (
        f"token_health_min below {HEALTH_FLOOR} more than once a week",
        "the local tier is too small",
    ),
    "failover_stuck": ("failover_to_frontier stuck at 0 during local outages", "the gate is too strict"),
    "manual_growth": ("manual_queue after the timeout growing two months in a row", "manual_timeout_sec is too short"),
    "low_spend": (f"less than {SPEND_FLOOR:.0%} of daily_budget_tokens spent in a day", "shrink the budget"),
    "failover_too_wide": (
        "frontier-reviewer serving non-critical tasks during a short outage",
        "the failover is too wide",
    ),
    "manual_nervous": ("the manual channel opening at a moderate queue", "the SLA thresholds are too nervous"),
}


@dataclass
class Day:
    """The record that stands for one day of the history."""

    day: date
    line: int
    rec: dict[str, Any]

    @property
    def label(self) -> str:
        return self.day.isoformat()

    def runs(self, name: str) -> dict[int, dict[str, Any]]:
        """The outage runs' evidence by outage minutes (empty for records of an older drill)."""
        raw = self.rec.get("runs") or {}
        if not isinstance(raw, dict) or not all(str(k).isdigit() and isinstance(v, dict) for k, v in raw.items()):
            raise BudgetError(f"{name}:{self.line}: runs: must map outage minutes to a record of evidence")
        return {int(k): v for k, v in raw.items()}


@dataclass
class Signal:
    key: str
    rule: str
    meaning: str
    status: str = NO_DATA
    finding: str = ""
    evidence: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, key: str) -> Signal:
        return cls(key, *RULES[key])

    @property
    def symptom(self) -> str:
        """The rule in quotes: the symptom checked, which a quiet signal did not find."""
        return f'"{self.rule}" ({self.meaning})'

    def headline(self) -> str:
        """``FIRES: "rule" (meaning)``; a quiet one says on the same line what was found instead of the symptom."""
        if self.status == QUIET:
            return f"quiet: {self.symptom}: {self.finding}"
        return f"{self.status.upper() if self.status == FIRES else self.status}: {self.symptom}"

    def conclude(self, evidence: list[str], seen: int, fires: str, quiet: str, no_data: str) -> Signal:
        """Fires with its evidence, quiet when something was seen without any, else not enough data."""
        if evidence:
            self.status, self.finding, self.evidence = FIRES, fires, evidence
        elif seen:
            self.status, self.finding = QUIET, quiet
        else:
            self.finding = no_data
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.key,
            "rule": self.rule,
            "meaning": self.meaning,
            "status": self.status,
            "finding": self.finding,
            "evidence": self.evidence,
        }


@dataclass
class Review:
    history: str
    spec: str
    days: list[Day]
    signals: list[Signal]
    notes: list[str] = field(default_factory=list)

    @property
    def fired(self) -> list[Signal]:
        return [s for s in self.signals if s.status == FIRES]

    @property
    def evaluated(self) -> list[Signal]:
        return [s for s in self.signals if s.status != NO_DATA]

    def lines(self) -> list[str]:
        span = f"{self.days[0].label} .. {self.days[-1].label}" if self.days else "no dated day"
        out = [f"review of {self.history}: {self.spec}, {count_of(len(self.days), 'day')} ({span})", *self.notes]
        for s in self.signals:
            out.append(s.headline())
            if s.status != QUIET:
                out.append(f"    {s.finding}")
            out.extend(f"    - {e}" for e in s.evidence)
        n = len(self.fired)
        out.append(
            f"{n} of {len(self.signals)} signals {'fires' if n == 1 else 'fire'}"
            + (": " + ", ".join(s.key for s in self.fired) if n else "")
            + f"; {len(self.signals) - len(self.evaluated)} without enough data"
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "spec": self.spec,
            "days": [d.label for d in self.days],
            "notes": self.notes,
            "signals": [s.to_dict() for s in self.signals],
        }


# --- reading the history ---------------------------------------------------------------------


def history_from_text(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    """The history's records with their line numbers (JSON Lines, one drill run a line)."""
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        doc = parse_json_text(line, f"{name}:{n}")
        if not isinstance(doc.data, dict):
            raise BudgetError(f"{name}:{n}: a history record must be a JSON object")
        if not isinstance(doc.data.get("spec"), str):
            raise BudgetError(f"{name}:{n}: spec: missing (is this a drill history?)")
        records.append((n, doc.data))
    if not records:
        raise BudgetError(f"{name}: has no records")
    return records


def load_history(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    return history_from_text(read_text(path, MAX_HISTORY_BYTES), str(path))  # what drill --history may write


def count_of(n: int, word: str) -> str:
    """``1 day``, ``2 days``: a count with its noun in the right number."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _num(rec: dict[str, Any], where: str, *path: str) -> float | None:
    """The number at ``path`` in a record; None when absent; an error when it is not a finite number."""
    cur: Any = rec
    for p in path:
        if not isinstance(cur, dict) or p not in cur or cur[p] is None:
            return None
        cur = cur[p]
    if isinstance(cur, bool) or not isinstance(cur, (int, float)) or not math.isfinite(cur):
        raise BudgetError(f"{where}: {'.'.join(path)}: must be a finite number, got {cur!r}")
    return float(cur)


def _days(records: list[tuple[int, dict[str, Any]]], name: str) -> tuple[list[Day], int]:
    by_day: dict[date, Day] = {}
    undated = 0
    for line, rec in records:
        try:
            d = date.fromisoformat(str(rec.get("day", "")))
        except ValueError:
            undated += 1
            continue
        by_day[d] = Day(d, line, rec)  # the last run of a day stands for it
    return [by_day[d] for d in sorted(by_day)], undated


# --- the signals -------------------------------------------------------------------------------


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
        v = _num(d.rec, f"{name}:{d.line}", *path)
        if v is not None:
            out.append((d, v))
    return out


def _ids(run: dict[str, Any], key: str) -> str:
    ids = run.get(key)
    return ", ".join(str(i) for i in ids) if isinstance(ids, list) else ""


def _worst_outage(d: Day) -> str:
    outages = d.rec.get("outages") or {}
    if not isinstance(outages, dict) or not outages:
        return "worst outage"
    worst = min(outages, key=lambda k: outages[k] if isinstance(outages[k], (int, float)) else math.inf)
    return f"at the {worst}-minute outage"


def _failover_stuck(days: list[Day], name: str) -> Signal:
    s = Signal.of("failover_stuck")
    stuck, seen = [], 0
    for d in days:
        runs = {m: r for m, r in d.runs(name).items() if (_num(r, f"{name}:{d.line}", "critical") or 0) > 0}
        if not runs:
            continue
        seen += 1
        key = "failover_total" if all("failover_total" in r for r in runs.values()) else "failover_to_frontier"
        if all(_num(r, f"{name}:{d.line}", key) == 0 for r in runs.values()):
            stuck.append(
                f"{d.label}: no failover in the "
                + ", ".join(
                    f"{m}m outage ({int(r['critical'])} P0/P1 arrived; waited: {_ids(r, 'critical_waited_ids')})"
                    for m, r in sorted(runs.items())
                )
            )
    return s.conclude(
        stuck,
        seen,
        f"failover stayed at 0 on {len(stuck)} of {count_of(seen, 'day')}",
        f"failover worked on {'the one day' if seen == 1 else f'every one of {seen} days'} with P0/P1 arriving "
        "in an outage",
        "no P0/P1 task arrived during a drilled outage (or the records predate the field)",
    )


def _manual_growth(days: list[Day], name: str) -> Signal:
    s = Signal.of("manual_growth")
    months: dict[str, dict[int, list[float]]] = {}
    for d in days:
        for m, r in d.runs(name).items():
            v = _num(r, f"{name}:{d.line}", "manual_after_timeout")
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
            n = _num(r, f"{name}:{d.line}", "frontier_noncritical")
            if m > SHORT_OUTAGE_MIN or n is None:
                continue
            seen += 1
            if n > 0:
                wide.append(f"{d.label}, {m}m outage: {int(n)} P2/P3 tasks ({_ids(r, 'frontier_noncritical_ids')})")
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
        limit = _num(d.rec, f"{name}:{d.line}", "queue_limit")
        for m, r in sorted(d.runs(name).items()):
            if "manual_opened" not in r or limit is None:
                continue
            seen += 1
            opened = r["manual_opened"]
            if opened is not None and not isinstance(opened, dict):
                raise BudgetError(f"{name}:{d.line}: runs.{m}.manual_opened: must be a record or null")
            if opened is not None:
                q = _num(opened, f"{name}:{d.line}", "queue")
                if q is None:
                    raise BudgetError(f"{name}:{d.line}: runs.{m}.manual_opened.queue: missing")
                if q <= limit:
                    nervous.append(
                        f"{d.label}, {m}m outage: opened at {opened.get('time')} with {int(q)} open tasks "
                        f"(limit {int(limit)}): {_ids(opened, 'tasks')}"
                    )
    return s.conclude(
        nervous,
        seen,
        f"{len(nervous)} of {count_of(seen, 'outage')}",
        f"in {count_of(seen, 'outage')} the channel stayed shut or opened above the queue limit",
        "no record has the manual channel's opening (records of an older drill)",
    )


SIGNALS: tuple[Callable[[list[Day], str], Signal], ...] = (
    _no_degraded_mode,
    _health_below_half,
    _failover_stuck,
    _manual_growth,
    _low_spend,
    _failover_too_wide,
    _manual_nervous,
)


def review(records: list[tuple[int, dict[str, Any]]], name: str, spec: str | None = None) -> Review:
    """The seven signals on the records of ``spec`` (default: the spec of the last record)."""
    specs = [r["spec"] for _, r in records]
    chosen = spec if spec is not None else specs[-1]
    if chosen not in specs:
        raise UsageError(f"{name}: no record of spec {chosen!r} (specs: {', '.join(sorted(set(specs)))})")
    mine = [(n, r) for n, r in records if r["spec"] == chosen]
    days, undated = _days(mine, name)
    notes = []
    if len(mine) < len(records):
        notes.append(f"{len(records) - len(mine)} records of other specs left out")
    if undated:
        notes.append(f"{undated} records without a day left out")
    return Review(name, chosen, days, [signal(days, name) for signal in SIGNALS], notes)
