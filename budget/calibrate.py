"""Calibration: sweep a plan's split, reserve, manual timeout and guard against outage drills.

Every variant keeps the base spec's daily budget and phase proportions; it moves
the most expensive tier's share of the day to ``frontier_share`` and the
cheapest tier's control reserve to ``reserve``, and the cheap tiers' phase quotas
take the rest in their base proportions. Each variant replays the alert day once
per outage (``budget.drill``), is checked against the targets (default
token_health_min >= 0.70 at 15 minutes and >= 0.50 at 30) and the gateway, and
is priced with the policy's ``token_price_per_million``. The recommendation is
the cheapest variant that meets everything (ties: the larger minimum
token_health, then the sweep order).

:func:`propose` is the chapter's Low / Default / High table: from a team's
incidents a day, cost of an incident, share of disputed reviews and outages a
month, a starting plan.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import yaml

from budget.choices import DEFAULT_MAX_SILENT_P0
from budget.drill import DrillResult, check_drill, drill_result, drill_runs, sorted_incidents
from budget.errors import BudgetError, UsageError
from budget.gate import Check, validate
from budget.keeper.snapshot import simulate_shared
from budget.scenario import Incident
from budget.spec import RESERVE, SLA_KEY, BudgetSpec, Phase

DEFAULT_TARGETS = {15: 0.70, 30: 0.50}
DEFAULT_PRICES = {"cheapest": 0.10, "middle": 0.60, "most_expensive": 3.00}


@dataclass(frozen=True)
class Variant:
    frontier_share: float
    reserve: int
    manual_timeout_sec: float
    alert_threshold: float


@dataclass
class SweepRow:
    index: int
    variant: Variant
    daily_budget_tokens: int
    cost: float
    floors: dict[int, float]
    silent: dict[int, float]
    gateway_failed: list[str]
    meets: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "frontier_share": self.variant.frontier_share,
            "control_reserve": self.variant.reserve,
            "manual_timeout_sec": self.variant.manual_timeout_sec,
            "alert_threshold": self.variant.alert_threshold,
            "daily_budget_tokens": self.daily_budget_tokens,
            "cost_per_day": round(self.cost, 2),
        }
        for minutes, f in sorted(self.floors.items()):
            out[f"token_health_min_{minutes}m"] = f
        for minutes, f in sorted(self.silent.items()):
            out[f"silent_p0_{minutes}m"] = f
        out["gateway"] = "pass" if not self.gateway_failed else "fail: " + " ".join(self.gateway_failed)
        out["meets_targets"] = self.meets
        out["why"] = self.why
        return out


@dataclass
class Calibration:
    base: str
    rows: list[SweepRow]
    targets: dict[int, float]
    max_silent_p0: float | None
    recommended: SweepRow | None
    recommended_spec: BudgetSpec | None
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        out = io.StringIO()
        rows = [r.to_dict() for r in self.rows]
        if not rows:
            return ""
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return out.getvalue()


def price_of(spec: BudgetSpec) -> float:
    """The plan's price a day: every tier's tokens at its price per million."""
    prices = spec.policy.token_price_per_million
    total = 0.0
    for i, tier in enumerate(spec.tiers):
        if tier in prices:
            p = prices[tier]
        elif i == 0:
            p = DEFAULT_PRICES["cheapest"]
        elif i == len(spec.tiers) - 1:
            p = DEFAULT_PRICES["most_expensive"]
        else:
            p = DEFAULT_PRICES["middle"]
        total += spec.tier_total(tier) / 1e6 * p
    return total


def _spread(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to ``weights`` that add up to ``total`` exactly."""
    s = sum(weights)
    if s <= 0:
        weights = [1.0] * len(weights)
        s = float(len(weights))
    raw = [total * w / s for w in weights]
    out = [int(x // 1000 * 1000) for x in raw]  # round quotas down to thousands
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    out[order[0]] += rest
    return out


def variant_spec(base: BudgetSpec, v: Variant) -> BudgetSpec:
    """The base spec with the variant's frontier share, reserve and guard (same daily budget)."""
    if not 0 < v.frontier_share < 1:
        raise BudgetError(f"frontier share {v.frontier_share}: must be between 0 and 1")
    daily = base.daily_budget_tokens
    top, cheap = base.most_expensive, base.cheapest
    names = list(base.phases)
    frontier_total = int(round(daily * v.frontier_share))
    if v.reserve < 0 or v.reserve + frontier_total >= daily:
        raise BudgetError(f"reserve {v.reserve:,}: leaves nothing for the cheap tiers' phases")
    top_w = [float(base.phases[n].quotas.get(top, 0)) for n in names]
    if sum(top_w) == 0:
        top_w = [float(sum(base.phases[n].quotas.values())) for n in names]
    top_q = _spread(frontier_total, top_w)
    others = [t for t in base.tiers if t != top]
    keys = [(n, t) for n in names for t in others]
    other_q = _spread(daily - frontier_total - v.reserve, [float(base.phases[n].quotas.get(t, 0)) for n, t in keys])
    quotas: dict[str, dict[str, int]] = {n: {} for n in names}
    for (n, t), q in zip(keys, other_q, strict=True):
        quotas[n][t] = q
    for n, q in zip(names, top_q, strict=True):
        quotas[n][top] = q
    phases = {n: Phase(quotas={t: quotas[n][t] for t in base.tiers}, sla_p95=base.phases[n].sla_p95) for n in names}
    reserve = {t: 0 for t in base.tiers}
    reserve[cheap] = v.reserve
    policy = base.policy.model_copy(update={"alert_threshold": v.alert_threshold})
    return base.model_copy(
        update={"phases": phases, "reserve": reserve, "policy": policy, "policy_declared": True, "split": None}
    )


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


@dataclass(frozen=True)
class SweepJob:
    """One task of a sweep: the variants that share a split and a reserve, over one day of alerts.

    Such variants differ only in the manual timeout and the guard, so their runs
    share the day up to the outage (``budget.keeper.snapshot``).
    """

    indices: tuple[int, ...]
    variants: tuple[Variant, ...]
    base: BudgetSpec
    incidents: tuple[Incident, ...]
    outages: tuple[int, ...]
    start: str
    targets: dict[int, float]
    max_silent: float | None
    checks: list[Check] | None


def evaluate(job: SweepJob) -> list[SweepRow]:
    """The sweep's rows for one job (a pure function of the job: the pool and a cluster run the same)."""
    specs = [variant_spec(job.base, v) for v in job.variants]
    plan = list(job.outages)
    runs = []
    for spec, v in zip(specs, job.variants, strict=True):
        tier = check_drill(spec, job.incidents, plan, job.start)
        runs += drill_runs(spec, job.incidents, plan, job.start, tier, v.manual_timeout_sec, "spec", False, False)
    results = [r.to_dict() for r in simulate_shared(runs)]
    rows = []
    for n, (index, v, spec) in enumerate(zip(job.indices, job.variants, specs, strict=True)):
        mine = results[n * len(plan) : (n + 1) * len(plan)]
        drill = drill_result(
            spec, job.incidents, plan, mine, job.start, spec.cheapest, spec.policy.alert_threshold, None, "spec", False
        )
        rows.append(_row(index, v, spec, drill, job.targets, job.max_silent, job.checks))
    return rows


def _row(
    index: int,
    v: Variant,
    spec: BudgetSpec,
    drill: DrillResult,
    targets: dict[int, float],
    max_silent: float | None,
    checks: list[Check] | None,
) -> SweepRow:
    floors = {r["outage_min"]: r["token_health_min"] for r in drill.runs}
    silent = {r["outage_min"]: r["silent_p0"] for r in drill.runs}
    gate_failed: list[str] = []
    if checks:
        data = drill.to_dict()
        gate_failed = sorted(
            {f"{cid}@{rep.target.split()[-1]}" for rep in validate(checks, data) for cid in rep.failed}
        )
    misses = [f"{m}m {floors.get(m, 0):.2f}<{t:.2f}" for m, t in sorted(targets.items()) if floors.get(m, 0) < t]
    if max_silent is not None:
        misses += [f"silent_p0 {m}m {s:.3f}>{max_silent:.3f}" for m, s in sorted(silent.items()) if s > max_silent]
    why = "; ".join(misses + (["gateway " + " ".join(gate_failed)] if gate_failed else [])) or "meets every target"
    return SweepRow(
        index,
        v,
        spec.daily_budget_tokens,
        price_of(spec),
        floors,
        silent,
        gate_failed,
        why == "meets every target",
        why,
    )


def sweep_jobs(
    base: BudgetSpec,
    incidents: Sequence[Incident],
    variants: Sequence[Variant],
    outages: Sequence[int],
    start: str,
    targets: dict[int, float],
    max_silent_p0: float | None,
    checks: list[Check] | None,
) -> list[SweepJob]:
    """The sweep's tasks: one per split and reserve (its timeouts and guards together), in sweep order."""
    incs = sorted_incidents(incidents)
    groups: dict[tuple[float, int], list[int]] = {}
    for i, v in enumerate(variants):
        groups.setdefault((v.frontier_share, v.reserve), []).append(i)
    return [
        SweepJob(
            tuple(members),
            tuple(variants[i] for i in members),
            base,
            incs,
            tuple(outages),
            start,
            targets,
            max_silent_p0,
            checks,
        )
        for members in groups.values()
    ]


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
    return [
        Variant(f, int(r), float(t), float(g))
        for f, r, t, g in product(frontier_shares, reserves, timeouts, thresholds)
    ]


def calibrate(
    base: BudgetSpec,
    incidents: Sequence[Incident],
    variants: Sequence[Variant],
    outages: Sequence[int] = (15, 30, 45),
    start: str = "11:00",
    targets: dict[int, float] | None = None,
    checks: list[Check] | None = None,
    workers: int | None = None,
    max_silent_p0: float | None = DEFAULT_MAX_SILENT_P0,
    progress: Callable[[float], None] | None = None,
    base_name: str = "spec",
) -> Calibration:
    """Run every variant's drill (in a process pool) and pick the cheapest that meets the targets."""
    targets = dict(DEFAULT_TARGETS if targets is None else targets)
    missing = [m for m in targets if m not in outages]
    if missing:
        raise BudgetError(f"targets name outages {missing} that the sweep does not run (--outages)")
    if not variants:
        raise BudgetError("the sweep has no variants")
    for v in variants:  # build every variant once up front so a bad one fails before the pool starts
        variant_spec(base, v)
    check_drill(base, incidents, outages, start)
    jobs = sweep_jobs(base, incidents, variants, outages, start, targets, max_silent_p0, checks)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    rows: list[SweepRow] = []
    done = 0
    if n_workers == 1:
        for job in jobs:
            rows += evaluate(job)
            done += len(job.indices)
            if progress:
                progress(done / len(variants))
    else:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(evaluate, job) for job in jobs]
            for fut in as_completed(futures):
                got = fut.result()
                rows += got
                done += len(got)
                if progress:
                    progress(done / len(variants))
    rows.sort(key=lambda r: r.index)
    passing = [r for r in rows if r.meets]
    best = min(passing, key=lambda r: (round(r.cost, 6), -min(r.floors.values()), r.index)) if passing else None
    return Calibration(
        base=base_name,
        rows=rows,
        targets=targets,
        max_silent_p0=max_silent_p0,
        recommended=best,
        recommended_spec=variant_spec(base, best.variant) if best else None,
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
    local_q = _spread(local_total, [float(TEXTBOOK_PHASES[n][0]) for n in names])
    top_q = _spread(frontier_total, [float(TEXTBOOK_PHASES[n][1]) for n in names])
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
