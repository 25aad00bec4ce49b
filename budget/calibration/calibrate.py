"""Calibration: sweep a plan's split, reserve, manual timeout and guard against outage drills.

Every variant keeps the base spec's daily budget and phase proportions; it moves
the most expensive tier's share of the day to ``frontier_share`` and the
cheapest tier's control reserve to ``reserve``, and the cheap tiers' phase quotas
take the rest in their base proportions. Each variant replays the alert day once
per outage (``budget.drill.replay``), is checked against the targets (default
token_health_min >= 0.70 at 15 minutes and >= 0.50 at 30) and the gateway, and
is priced with the policy's ``token_price_per_million``. The recommendation is
the cheapest variant that meets everything (ties: the larger minimum
token_health, then the sweep order).

:func:`propose` is the chapter's Low / Default / High table: from a team's
incidents a day, cost of an incident, share of disputed reviews and outages a
month, a starting plan.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import yaml

from budget.calibration.reading import gateway_clause, gateway_note
from budget.calibration.sweep import SweepRow, over_days, run_jobs, sweep_jobs
from budget.drill import check_drill
from budget.errors import BudgetError, UsageError
from budget.files import DEFAULT_MAX_SILENT_P0, MAX_INT_DIGITS, MAX_SWEEP_VARIANTS, sweep_values
from budget.gateway import Check
from budget.model import DEFAULT_PRICES, RESERVE, SLA_KEY, BudgetSpec, Incident, Variant, price_of, spread, variant_spec

__all__ = ["DEFAULT_PRICES", "Variant", "calibrate", "grid", "price_of", "propose", "spec_yaml", "variant_spec"]

DEFAULT_TARGETS = {15: 0.70, 30: 0.50}


@dataclass
class Calibration:
    base: str
    rows: list[SweepRow]
    targets: dict[int, float]
    max_silent_p0: float | None
    recommended: SweepRow | None
    recommended_spec: BudgetSpec | None
    notes: list[str] = field(default_factory=list)
    day_rows: dict[str, list[SweepRow]] = field(default_factory=dict)  # each day's rows, when several
    checks: list[Check] | None = None  # the gateway's checks, when the sweep ran them
    base_guard: float | None = None  # the base spec's alert_threshold

    def guard_note(self) -> str | None:
        """Where the recommended guard comes from: it is an axis of the sweep (``--thresholds``), picked with
        the rest of the variant, not kept from the base spec; and what decided between the guards."""
        best = self.recommended
        if best is None:
            return None
        g = best.variant.alert_threshold
        guards = sorted({r.variant.alert_threshold for r in self.rows})
        base = "" if self.base_guard is None else f"; the base spec has {self.base_guard:.2f}"
        if len(guards) == 1:
            return f"guard {g:.2f} is the sweep's one guard (--thresholds{base})"
        swept = ", ".join(f"{x:.2f}" for x in guards)
        rivals = [  # variants as cheap as the pick that meet the targets with another guard
            r
            for r in self.rows
            if r.meets and round(r.cost, 6) == round(best.cost, 6) and r.variant.alert_threshold != g
        ]
        level = [r for r in rivals if min(r.floors.values()) == min(best.floors.values())]
        if level:
            others = ", ".join(f"{x:.2f}" for x in sorted({r.variant.alert_threshold for r in level}))
            why = f"{others} meets the targets as well at the same cost, and {g:.2f} comes first in the sweep"
        elif rivals:
            why = "of the guards that meet the targets at this cost, it keeps the highest token_health_min"
        else:
            why = "no other guard meets the targets at this cost"
        return f"guard {g:.2f} is one of the sweep's guards ({swept}{base}): {why}"

    def gateway_note(self) -> str | None:
        """Why variants below 0.50 at an outage read "gateway pass", and what that means for the recommendation."""
        return gateway_note(self.rows, self.targets, self.checks, self.recommended)

    def row_notes(self) -> dict[int, str]:
        """Each such variant's one clause, by its index (rows that need none are left out)."""
        if not self.checks:
            return {}
        notes = {r.index: gateway_clause(r, self.targets, self.recommended) for r in self.rows}
        return {i: n for i, n in notes.items() if n}

    def csv(self) -> str:
        """The sweep's table; over several days, each variant's row per day and then over all days."""
        out = io.StringIO()
        rows = [r.to_dict() for r in self.rows]
        if not rows:
            return ""
        if self.day_rows:
            per_day = [[r.to_dict() for r in day] for day in self.day_rows.values()]
            rows = [
                {"day": day, **row}
                for i, total in enumerate(rows)
                for day, row in [*((d, per_day[n][i]) for n, d in enumerate(self.day_rows)), ("all", total)]
            ]
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return out.getvalue()


def spec_yaml(spec: BudgetSpec, header: str = "") -> str:
    """A spec as YAML that ``load_spec`` reads back to the same plan."""
    phases: dict[str, Any] = {}
    for name, ph in spec.phases.items():
        row: dict[str, Any] = {t: ph.quotas.get(t, 0) for t in spec.tiers}
        if ph.sla_p95:
            row[SLA_KEY] = ph.sla_p95
        phases[name] = row
    phases[RESERVE] = {t: spec.reserve.get(t, 0) for t in spec.tiers}
    doc: dict[str, Any] = {"daily_budget_tokens": spec.daily_budget_tokens}
    if len(spec.tiers) > 2:
        doc["tiers"] = list(spec.tiers)
    doc["phases"] = phases
    policy = spec.policy.model_dump(mode="json", exclude_defaults=True)
    if policy:
        doc["policy"] = policy
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    head = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return head + body


def grid(
    frontier_shares: Sequence[float],
    reserves: Sequence[int],
    timeouts: Sequence[float],
    thresholds: Sequence[float],
) -> list[Variant]:
    for name, values in (
        ("frontier shares", frontier_shares),
        ("reserves", reserves),
        ("manual timeouts", timeouts),
        ("guard thresholds", thresholds),
    ):
        if not values:
            raise UsageError(f"the sweep's {name} are empty; give at least one value")
    count = math.prod(len(v) for v in (frontier_shares, reserves, timeouts, thresholds))  # before building any
    if count > MAX_SWEEP_VARIANTS:
        raise UsageError(f"the sweep has {count:,} variants, over the limit of {MAX_SWEEP_VARIANTS:,}")
    return [
        Variant(f, int(r), float(t), float(g))
        for f, r, t, g in product(frontier_shares, reserves, timeouts, thresholds)
    ]


def calibrate(
    base: BudgetSpec,
    incidents: Sequence[Incident] | Mapping[str, Sequence[Incident]],
    variants: Sequence[Variant],
    outages: Sequence[int] = (15, 30, 45),
    start: str = "11:00",
    targets: dict[int, float] | None = None,
    checks: list[Check] | None = None,
    workers: int | None = None,
    max_silent_p0: float | None = DEFAULT_MAX_SILENT_P0,
    progress: Callable[[float], None] | None = None,
    base_name: str = "spec",
    scheduler: str | None = None,
) -> Calibration:
    """Run every variant's drill and pick the cheapest that meets the targets.

    ``incidents`` is one day of alerts, or several days by date (``budget.drill.days``):
    then every variant replays every day and meets the targets only if it meets
    them on each. The tasks run in a local process pool of ``workers`` (all
    cores), or on the Dask cluster whose scheduler is at ``scheduler``.
    """
    targets = dict(DEFAULT_TARGETS if targets is None else targets)
    missing = [m for m in targets if m not in outages]
    if missing:
        raise BudgetError(f"targets name outages {missing} that the sweep does not run (--outages)")
    if not variants:
        raise BudgetError("the sweep has no variants")
    days = dict(incidents) if isinstance(incidents, Mapping) else {"": incidents}
    for v in variants:  # build every variant once up front so a bad one fails before the pool starts
        variant_spec(base, v)
    for day in days.values():
        check_drill(base, day, outages, start)
    jobs = sweep_jobs(base, len(days), variants, outages, start, targets, max_silent_p0, checks)
    results = run_jobs(jobs, list(days.values()), workers, scheduler, progress)
    per_day: list[list[SweepRow]] = [[] for _ in days]
    for job, rows in zip(jobs, results, strict=True):
        per_day[job.day] += rows
    for rows in per_day:
        rows.sort(key=lambda r: r.index)
    names = list(days)
    rows = per_day[0] if len(days) == 1 else over_days(names, per_day)
    passing = [r for r in rows if r.meets]
    best = min(passing, key=lambda r: (round(r.cost, 6), -min(r.floors.values()), r.index)) if passing else None
    return Calibration(
        base=base_name,
        rows=rows,
        targets=targets,
        max_silent_p0=max_silent_p0,
        recommended=best,
        recommended_spec=variant_spec(base, best.variant) if best else None,
        day_rows=dict(zip(names, per_day, strict=True)) if len(days) > 1 else {},
        checks=list(checks) if checks else None,
        base_guard=base.policy.alert_threshold,
    )


# --- the chapter's Low / Default / High table ------------------------------------------------

TEXTBOOK_PHASES = {  # the textbook plan's proportions (tokens per 10M day)
    "triage": (3_000_000, 120_000, "30s"),
    "classification": (2_000_000, 140_000, "45s"),
    "diagnosis": (1_500_000, 180_000, "90s"),
    "plan": (800_000, 120_000, "120s"),
    "remediation": (700_000, 200_000, "180s"),
    "postmortem": (300_000, 240_000, "10m"),
}


HIGH_FLOW = 500  # incidents a day from which the table's high row (80/20) applies
HIGH_FLOW_FRONTIER = 0.20
WEEKLY = 4  # more outages a month than this is "weekly" (52 / 12 = 4.3)


def _size_row(incidents_per_day: int, incident_tokens: int) -> str:
    """The incidents-per-day and cost rows: the day's budget is the flow times the cost."""
    daily = incidents_per_day * incident_tokens
    if incidents_per_day <= 50:
        row = "low row (<= 50/day: 2-3M, 90/10)"
    elif incidents_per_day < HIGH_FLOW:
        row = "default row (200/day: 10M, 9M/1M)" if incidents_per_day == 200 else "between the low and high rows"
    else:
        row = f"high row (>= {HIGH_FLOW}/day: 25-40M, 80/20)"
    if incident_tokens <= 20_000:
        cost = "low cost (~20K)"
    elif incident_tokens < 100_000:
        cost = "default cost (~50K)"
    else:
        cost = "high cost (100K+, multi-step replay)"
    return f"budget: {incidents_per_day} incidents x {incident_tokens:,} tokens = {daily:,} a day; {row}, {cost}"


def _frontier_row(disputed_share: float) -> tuple[float, str]:
    """The disputed-reviews row: the most expensive tier's share of the day."""
    if disputed_share <= 0.05:
        return 0.06, "disputed reviews <= 5% (low row): frontier 5-7% (6%)"
    if disputed_share < 0.15:
        return 0.10, "disputed reviews ~10% (default row): frontier 10%"
    frontier = min(0.20, max(0.15, disputed_share))
    why = f"disputed reviews 15-25% (high row): frontier 15-20% ({frontier:.0%})"
    if disputed_share > 0.25:
        why += f"; {disputed_share:.0%} is past the table: measure before going beyond 20%"
    return frontier, why


def _reserve_row(outages_per_month: float) -> tuple[float, str]:
    """The local-coder outages row: the control reserve's share of the day."""
    if outages_per_month <= 1:
        return 0.05, f"{outages_per_month:g} local-coder outages a month (low row, <= 1): reserve 5%"
    if outages_per_month <= WEEKLY:
        return 0.07, f"{outages_per_month:g} local-coder outages a month (default row, 2-4): reserve 7%"
    return 0.15, (
        f"{outages_per_month:g} local-coder outages a month (high row, weekly): reserve 15%, "
        "and add a second provider for the cheap tier"
    )


@dataclass(frozen=True)
class Proposal:
    daily_budget_tokens: int
    frontier_share: float
    reserve_share: float
    reasons: tuple[str, ...]
    text: str


def propose(incidents_per_day: int, incident_tokens: int, disputed_share: float, outages_per_month: float) -> Proposal:
    """A starting plan from the chapter's calibration table (docs/model.md)."""
    if incidents_per_day <= 0 or incident_tokens <= 0:
        raise BudgetError("incidents per day and tokens per incident must be positive")
    if not 0 <= disputed_share <= 1 or outages_per_month < 0:
        raise BudgetError("disputed share must be 0-1 and outages per month not negative")
    reasons = [_size_row(incidents_per_day, incident_tokens)]
    daily = incidents_per_day * incident_tokens
    frontier, why = _frontier_row(disputed_share)
    reasons.append(why)
    if incidents_per_day >= HIGH_FLOW and frontier < HIGH_FLOW_FRONTIER:
        frontier = HIGH_FLOW_FRONTIER
        reasons.append(f"incidents per day >= {HIGH_FLOW} (high row): 80/20, frontier raised to 20%")
    reserve, why = _reserve_row(outages_per_month)
    reasons.append(why)
    frontier_total = int(round(daily * frontier))
    reserve_total = int(round(daily * reserve))
    local_total = daily - frontier_total - reserve_total
    names = list(TEXTBOOK_PHASES)
    local_q = spread(local_total, [float(TEXTBOOK_PHASES[n][0]) for n in names])
    top_q = spread(frontier_total, [float(TEXTBOOK_PHASES[n][1]) for n in names])
    phases: dict[str, Any] = {
        n: {"local-coder": lq, "frontier-reviewer": fq, SLA_KEY: TEXTBOOK_PHASES[n][2]}
        for n, lq, fq in zip(names, local_q, top_q, strict=True)
    }
    phases[RESERVE] = {"local-coder": reserve_total, "frontier-reviewer": 0}
    doc = {
        "daily_budget_tokens": daily,
        "split": f"{round(100 * (1 - frontier))}/{round(100 * frontier)}",
        "phases": phases,
        "policy": {"tokens_per_incident": incident_tokens},
    }
    head = "# Starting plan from the chapter's Low / Default / High table:\n" + "".join(f"# - {r}\n" for r in reasons)
    return Proposal(daily, frontier, reserve, tuple(reasons), head + yaml.safe_dump(doc, sort_keys=False))


def sweep_grid(args: argparse.Namespace) -> list[Any]:
    """The variants ``budget calibrate``'s flags (or their defaults) describe; the Home page runs the same."""
    axes = (
        sweep_values(args.frontier_shares, "--frontier-shares", 0, 1, above=True),
        sweep_values(args.reserves, "--reserves", 0, 10**MAX_INT_DIGITS - 1, int),
        sweep_values(args.timeouts, "--timeouts", 0, 86400, above=True),
        sweep_values(args.thresholds, "--thresholds", 0, 1),
    )
    return grid(*axes)
