"""The budget keeper: a minute-by-minute simulation of tiered routing under a daily budget.

Every tick (one minute) the keeper

1. brings tiers down or back up as the scenario says (on recovery, waiting
   work resumes and the manual channel's decisions are audited);
2. admits the incidents that have arrived;
3. moves tasks that waited ``manual_timeout_sec`` in the degraded queue to
   the manual channel;
4. routes every task whose tier is down: ranked failover (P0/P1 older than
   90 s, by blast radius then age, within the failover allowance and only
   while token_health is at or above the guard), else the degraded queue;
5. runs one minute of work on every running task, phase by phase, charging
   ``spent[p][tier]`` against ``quota[p][tier]`` and then the tier's reserve;
6. closes manual tasks that humans have finished;
7. accrues the rework owed by tasks waiting on a down tier;
8. recomputes token_health, the queues, the red-button conditions, and
   writes a timeline row.

The formulas and constants are in ``docs/model.md``; the constants live in
:class:`budget.spec.Policy`. :func:`simulate` is the whole API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from budget.errors import BudgetError
from budget.scenario import Incident, Scenario
from budget.spec import SEVERITIES, BudgetSpec, Policy
from budget.units import format_clock

POSTMORTEM = "postmortem"
TICK_SEC = 60

# Result field names a user checks; the app's labels come from here too.
RESULT_LABELS: dict[str, str] = {
    "failover_to_frontier": "tasks failed over to the expensive tier",
    "degraded_queue": "tasks that waited in the degraded queue",
    "manual_queue": "tasks moved to the manual channel",
    "token_health_min": "lowest token_health of the run",
    "reserve_capacity_tasks": "whole tasks the failover allowance can pay for",
    "mttr_p95": "95th percentile time to resolve, seconds",
    "escalation_share": "share of tasks that reached the expensive tier",
    "silent_p0": "share of P0 closed without any escalation",
    "unresolved_manual_ratio": "share of manual tasks still open at the end",
    "postmortem_gap": "share of resolved tasks without a postmortem at the end",
}


def manual_key(timeout_sec: float) -> str:
    """``manual_queue_after_120s``: the textbook's key, named after the actual timeout."""
    return f"manual_queue_after_{int(timeout_sec) if float(timeout_sec).is_integer() else timeout_sec}s"


@dataclass(slots=True)
class _Task:
    inc: Incident
    phase: int = 0
    elapsed: float = 0.0  # seconds done in the current phase
    state: str = "new"  # new, pending, running, degraded, manual, done
    tier: str | None = None  # tier running the task
    route: str = "normal"  # normal, failover, degraded, manual
    failover: bool = False
    was_degraded: bool = False
    was_manual: bool = False
    quota_stalled: bool = False
    seen_eligible: bool = False
    degraded_since: int | None = None
    manual_since: int | None = None
    manual_closed: bool = False
    manual_reason: str = ""
    audited: bool = True
    reviewed: bool = False
    review_needed: bool = False
    escalated: bool = False
    wait_min: int = 0
    rework_owed: float = 0.0
    resolved_at: int | None = None
    postmortem_done: bool = False
    events: list[tuple[int, str, str]] | None = field(default_factory=list)

    def log(self, now: int, action: str, reason: str) -> None:
        if self.events is not None:  # None when the caller asked for no decisions log
            self.events.append((now, action, reason))


@dataclass
class SimResult:
    """What :func:`simulate` returns; :meth:`to_dict` is the JSON the CLI writes."""

    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"


def _clock(sec: int) -> str:
    minute, s = divmod(int(sec), 60)
    text = format_clock(minute)
    return text if s == 0 else f"{text}:{s:02d}"


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


class _Keeper:
    def __init__(self, spec: BudgetSpec, scenario: Scenario, policy: Policy) -> None:
        self.spec = spec
        self.sc = scenario
        self.p = policy
        self.W = float(policy.tokens_per_incident)
        self.tiers = spec.tiers
        names = list(spec.phases)
        self.pm_index = names.index(POSTMORTEM) if POSTMORTEM in names else None
        # the phases that must finish before an incident counts as resolved
        self.resolve_phases = [i for i, n in enumerate(names) if n != POSTMORTEM]
        self.order = self.resolve_phases + ([self.pm_index] if self.pm_index is not None else [])
        self.phase_names = names
        self.dur = []
        for n in names:
            sla = spec.phases[n].sla_seconds
            self.dur.append(max(1.0, (sla if sla is not None else 60.0) * policy.phase_time_share))
        # the tier that does a phase's work: the one with the largest quota among all but the
        # most expensive tier (cheapest on a tie); the most expensive tier reviews.
        self.top = spec.most_expensive
        workers = [t for t in spec.tiers if t != self.top] or [self.top]
        self.work_tier = []
        for n in names:
            q = spec.phases[n].quotas
            best = max(workers, key=lambda t: (q.get(t, 0), -workers.index(t)))
            self.work_tier.append(best if q.get(best, 0) > 0 else workers[0])
        # an incident's W tokens spread over the phases as the plan spreads its work tiers' quotas
        work_quota = [float(spec.phases[n].quotas.get(self.work_tier[i], 0)) for i, n in enumerate(names)]
        total_work = sum(work_quota)
        if total_work > 0:
            self.share = [q / total_work for q in work_quota]
        else:
            self.share = [1.0 / len(names)] * len(names)
        self.remaining = {
            (i, t): float(spec.phases[n].quotas.get(t, 0)) for i, n in enumerate(names) for t in self.tiers
        }
        self.spent = {(i, t): 0.0 for i in range(len(names)) for t in self.tiers}
        self.spent_tier = {t: 0.0 for t in self.tiers}  # running totals of spent, per tier
        self.reserve_left = {t: float(spec.reserve.get(t, 0)) for t in self.tiers}
        self.reserve_used = {t: 0.0 for t in self.tiers}
        self.quota_total = {t: float(spec.tier_total(t)) for t in self.tiers}
        self.reserve_total = float(sum(spec.reserve.values()))
        self.allowance = {t: policy.failover_allowance_share * self.quota_total[t] for t in self.tiers}
        self.unplanned = {t: 0.0 for t in self.tiers}  # tokens committed to failover work
        self.fo_spent = {t: 0.0 for t in self.tiers}  # of which already spent
        self.demand = {t: 0.0 for t in self.tiers}  # planned (normal-routing) tokens of the run
        self.spare = dict(self.quota_total)
        self.eligible = {t: 0.0 for t in self.tiers}  # work of tasks eligible for failover this outage
        # what absorbs rework: a full queue's worth of work, or the control reserve if larger
        self.absorb = max(self.reserve_total, policy.queue_limit * self.W)
        self.down: set[str] = set()
        self.tasks: list[_Task] = []
        self.active: list[_Task] = []
        self.owed: list[_Task] = []  # manual tasks awaiting audit
        self.health_hist: list[float] = []
        self.window_health: list[float] = []
        self.red_active = False
        self.red_conditions: tuple[str, ...] = ()
        self.red_events: list[dict[str, Any]] = []
        self.red_minutes = 0
        self.red_activated = False
        self.frontier_for_low = False
        self.guard_breaches: list[str] = []
        self.guard_below = False
        self.counts = {"failover": 0, "degraded": 0, "manual_timeout": 0, "manual_guard": 0, "manual_intake": 0}
        self.max_open = 0
        self.degraded_minutes = 0
        self.timeline: list[dict[str, Any]] = []
        self.health = 1.0
        self.h_parts = (1.0, 1.0)
        self.outages: list[tuple[int, int, str]] = []  # (down from, up at, tier) in minutes
        self.recovered_at: dict[str, int] = {}
        self.first_recovery: int | None = None
        self.stage = 0  # staged return: 0 none, 1 (30%), 2 (60%), 3 full
        self.stage_since = 0
        self.stage_events: list[dict[str, Any]] = []
        self.relapses: list[dict[str, Any]] = []
        self.starts: dict[str, int] = {}  # tasks started this minute, per tier
        self.silent_hist: list[int] = []
        self.oq = 0  # open queue, counted once a tick and kept up to date on admission
        self.snap_open = 0  # open queue after this tick's work (see _scan)
        self.snap_owed = 0.0  # rework owed after this tick
        self.snap_states: dict[str, int] = {}
        self.snap_phase: dict[str, int] = {}
        self.sla = {sev: policy.sla_seconds(sev) for sev in SEVERITIES}

    # --- budget -------------------------------------------------------------------------
    def charge(self, phase: int, tier: str, tokens: float, borrow: bool = False) -> bool:
        """Take tokens from quota[phase][tier], then the tier's reserve; False if short.

        Failover work (``borrow``) is unplanned for the tier, so it may also draw on
        the tier's other phase quotas, largest remaining first.
        """
        key = (phase, tier)
        have = self.remaining[key]
        others: list[tuple[int, str]] = []
        extra = 0.0
        if borrow and have + self.reserve_left[tier] + 1e-6 < tokens:
            others = sorted(
                (k for k in self.remaining if k[1] == tier and k != key and self.remaining[k] > 0),
                key=lambda k: (-self.remaining[k], k[0]),
            )
            extra = sum(self.remaining[k] for k in others)
        if have + self.reserve_left[tier] + extra + 1e-6 < tokens:
            return False
        take = min(have, tokens)
        self.remaining[key] = have - take
        rest = tokens - take
        for k in others:
            if rest <= 0:
                break
            part = min(rest, self.remaining[k])
            self.remaining[k] -= part
            rest -= part
        if rest > 0:
            rest = min(rest, self.reserve_left[tier])
            self.reserve_left[tier] -= rest
            self.reserve_used[tier] += rest
        self.spent[key] += tokens
        self.spent_tier[tier] += tokens
        return True

    def pay_rework(self, task: _Task, tier: str) -> None:
        """Rework owed is paid from the tier's control reserve first, then the current phase."""
        amount = task.rework_owed
        if amount <= 0:
            return
        from_reserve = min(amount, self.reserve_left[tier])
        self.reserve_left[tier] -= from_reserve
        self.reserve_used[tier] += from_reserve
        rest = amount - from_reserve
        phase = self.order[min(task.phase, len(self.order) - 1)]
        key = (phase, tier)
        take = min(rest, self.remaining[key])
        self.remaining[key] -= take
        self.spent[key] += from_reserve + take
        self.spent_tier[tier] += from_reserve + take
        task.rework_owed = 0.0

    def remaining_work(self, task: _Task) -> float:
        idx = task.phase
        if idx >= len(self.order):
            return 0.0
        p = self.order[idx]
        left = self.W * self.share[p] * (1 - task.elapsed / self.dur[p])
        return left + sum(self.W * self.share[q] for q in self.order[idx + 1 :])

    def forecast(self, incidents: Sequence[Incident]) -> None:
        """Planned demand per tier for the run's incidents, and the spare capacity it leaves."""
        per_task = {t: 0.0 for t in self.tiers}
        for p in self.order:
            per_task[self.work_tier[p]] += self.W * self.share[p]
        reviews = sum(1 for i in incidents if i.severity == "P0" or i.confidence_gap >= self.p.dispute_gap)
        n = len(incidents)
        for t in self.tiers:
            self.demand[t] = per_task[t] * n
        self.demand[self.top] += reviews * self.W * self.p.review_share
        for t in self.tiers:
            self.spare[t] = max(0.0, self.quota_total[t] - self.demand[t])

    def failover_targets(self, tier: str, severity: str) -> list[str]:
        """Tiers above ``tier`` that are up and take this severity, cheapest first."""
        out = []
        for t in self.tiers[self.tiers.index(tier) + 1 :]:
            if t in self.down or self.quota_total[t] <= 0:
                continue
            allowed = self.p.failover_severities if t == self.top else self.p.mid_failover_severities
            if severity in allowed:
                out.append(t)
        return out

    def failover_target(self, tier: str) -> str | None:
        i = self.tiers.index(tier)
        for t in self.tiers[i + 1 :]:
            if t not in self.down:
                return t
        return None

    # --- recovery -----------------------------------------------------------------------
    def capacity(self, tier: str, minute: int) -> tuple[int | None, int]:
        """(tasks the tier may start this minute or None for no limit, phases allowed: index bound)."""
        mode = self.sc.recovery
        n_phases = len(self.order)
        if mode == "staged" and tier in self.recovered_at and self.stage in (1, 2):
            share = self.p.stage_shares[self.stage - 1]
            allowed = min(2, n_phases) if self.stage == 1 else n_phases
            return max(1, int(share * self.p.warmup_capacity)), allowed
        return None, n_phases

    def can_start(self, task: _Task, tier: str, minute: int) -> bool:
        cap, allowed = self.capacity(tier, minute)
        if task.phase >= allowed:
            return False
        return cap is None or self.starts.get(tier, 0) < cap

    def go_down(self, tier: str, now: int) -> None:
        self.down.add(tier)
        self.eligible = {t: 0.0 for t in self.tiers}
        for t in self.active:
            if t.state == "running" and self.needed_tier(t) == tier:
                t.state = "pending"
                t.log(now, "interrupted", f"{tier} went down")

    def recover(self, tier: str, now: int, minute: int) -> None:
        self.down.discard(tier)
        self.recovered_at[tier] = minute
        if self.first_recovery is None:
            self.first_recovery = minute
        for t in self.active:
            if t.state == "pending" and self.needed_tier(t) == tier:
                self.to_degraded(t, now, f"waited for {tier} through the outage")
        if self.sc.recovery == "staged" and tier == self.spec.cheapest:
            self.set_stage(1, now, f"{tier} back: {self.p.stage_shares[0]:.0%} of its capacity, first phases only")

    def set_stage(self, stage: int, now: int, reason: str) -> None:
        self.stage = stage
        self.stage_since = len(self.window_health)
        self.stage_events.append({"time": _clock(now), "stage": stage, "reason": reason})

    def resume(self, now: int, minute: int) -> None:
        """Waiting work goes back to a tier that is up, within the tier's capacity, most urgent first."""
        waiting = [
            t
            for t in self.active
            if t.state == "degraded" and not t.quota_stalled and self.needed_tier(t) not in self.down
        ]
        waiting.sort(key=lambda t: (SEVERITIES.index(t.inc.severity), -t.inc.blast_radius, t.inc.arrival_sec))
        for t in waiting:
            tier = self.needed_tier(t)
            if not self.can_start(t, tier, minute):
                continue
            self.pay_rework(t, tier)
            self.starts[tier] = self.starts.get(tier, 0) + 1
            self.start(t, now, tier, f"resumes on {tier}" + (f" (stage {self.stage})" if self.stage in (1, 2) else ""))
        cheap = self.spec.cheapest
        if self.owed and cheap not in self.down:
            for t in self.owed:
                if t.manual_closed and not t.audited:
                    cap, allowed = self.capacity(cheap, minute)
                    if allowed < len(self.order) or (cap is not None and self.starts.get(cheap, 0) >= cap):
                        break
                    self.starts[cheap] = self.starts.get(cheap, 0) + 1
                    _audit(self, t, now)
            self.owed = [t for t in self.owed if not t.audited]

    def after_minute(self, now: int, minute: int) -> None:
        """Relapse of a flooded fragile tier (immediate return) and staged-return transitions."""
        if self.sc.recovery == "immediate" and not self.relapses:
            for tier, started in self.starts.items():
                since = self.recovered_at.get(tier)
                if since is not None and minute - since < self.p.warmup_min and started > self.p.warmup_capacity:
                    self.outages.append((minute + 1, minute + 1 + self.p.relapse_min, tier))
                    self.relapses.append(
                        {
                            "time": _clock(now),
                            "tier": tier,
                            "reason": f"{started} tasks in one minute on a tier back for {minute - since} min "
                            f"(it takes {self.p.warmup_capacity}): down again for {self.p.relapse_min} min",
                        }
                    )
                    break
        if self.sc.recovery == "staged" and self.stage in (1, 2) and len(self.window_health) > self.stage_since:
            w = self.window_health
            since = len(w) - self.stage_since
            if self.stage == 1 and since >= 3:
                stable = w[-1] >= w[-2] - 0.005 and w[-2] >= w[-3] - 0.005
                silent_flat = len(self.silent_hist) < 3 or self.silent_hist[-1] <= self.silent_hist[-3]
                if stable and silent_flat and self.snap_open <= self.p.queue_limit:
                    self.set_stage(
                        2,
                        now,
                        f"three stable token_health windows, no growth of silent P0, queue {self.snap_open}: "
                        f"{self.p.stage_shares[1]:.0%} of capacity, every phase",
                    )
            elif (
                self.stage == 2
                and since >= 1
                and not self.owed
                and not any(t.state == "degraded" and not t.quota_stalled for t in self.active)
            ):
                self.set_stage(3, now, "PostToolUse audit done and the backlog drained: full return")

    # --- routing ------------------------------------------------------------------------
    def needed_tier(self, task: _Task) -> str:
        if task.failover and task.tier is not None:
            return task.tier
        idx = min(task.phase, len(self.order) - 1)
        return self.work_tier[self.order[idx]]

    def start(self, task: _Task, now: int, tier: str, reason: str) -> None:
        task.state = "running"
        task.tier = tier
        task.log(now, "run", f"{tier}: {reason}")

    def to_degraded(self, task: _Task, now: int, reason: str) -> None:
        if task.state != "degraded":
            task.state = "degraded"
            task.route = "degraded"
            task.degraded_since = now
            if not task.was_degraded:
                task.was_degraded = True
                self.counts["degraded"] += 1
            task.log(now, "degraded", reason)

    def to_manual(self, task: _Task, now: int, kind: str, reason: str) -> None:
        task.state = "manual"
        task.route = "manual"
        task.manual_since = now
        task.manual_reason = kind
        task.audited = False
        if not task.was_manual:
            task.was_manual = True
            self.counts[f"manual_{kind}"] += 1
        task.log(now, "manual", reason)

    def admit(self, task: _Task, now: int) -> None:
        inc = task.inc
        p = self.p
        task.review_needed = inc.severity == "P0" or inc.confidence_gap >= p.dispute_gap
        if self.red_active and self.oq >= p.queue_limit:
            self.to_manual(task, now, "intake", f"red button: intake limited (open queue {self.oq} >= {p.queue_limit})")
            self.oq += 1
            return
        tier = self.needed_tier(task)
        if tier in self.down:
            self.oq += 1
            task.state = "pending"
            task.log(now, "queued", f"{tier} is down: waiting for the keeper's routing decision")
        elif not self.can_start(task, tier, now // 60):
            self.to_degraded(task, now, f"staged return, stage {self.stage}: {tier} is at its capacity")
        else:
            self.starts[tier] = self.starts.get(tier, 0) + 1
            self.start(task, now, tier, "normal routing")

    def route_pending(self, now: int) -> None:
        p = self.p
        routing = self.sc.routing
        pending = [t for t in self.active if t.state == "pending"]
        if not pending:
            return
        candidates: list[_Task] = []
        for task in pending:
            tier = self.needed_tier(task)
            if tier not in self.down:
                self.to_degraded(task, now, f"waited for {tier} through the outage")
                continue  # resume() starts it within the tier's capacity
            if routing == "close_silently":
                task.state = "done"
                task.route = "closed"
                task.resolved_at = now
                task.log(now, "resolved", f"close_silently: closed without escalation while {tier} is down")
            elif routing == "hold_all":
                self.to_degraded(task, now, f"hold_all: every task waits for {tier}")
            elif routing == "all_to_frontier":
                self.try_failover(
                    task,
                    now,
                    self.failover_target(tier),
                    "all_to_frontier: every task goes to the expensive tier",
                    cap=False,
                )
            elif not self.failover_targets(tier, task.inc.severity):
                self.to_degraded(task, now, f"{task.inc.severity} is not eligible for failover: waits for {tier}")
            elif now - task.inc.arrival_sec <= p.failover_min_age_sec:
                continue  # inside the ranking window; decided once older than failover_min_age_sec
            else:
                candidates.append(task)
        if not candidates:
            return
        candidates.sort(key=lambda t: (-t.inc.blast_radius, t.inc.arrival_sec, t.inc.id))
        for rank, task in enumerate(candidates, 1):
            tier = self.needed_tier(task)
            age = now - task.inc.arrival_sec
            why = f"rank {rank}: {task.inc.severity}, blast radius {_num(task.inc.blast_radius)}, age {age}s"
            if self.health < p.alert_threshold:
                self.to_manual(
                    task,
                    now,
                    "guard",
                    f"{why}; guard: token_health {self.health:.2f} < {p.alert_threshold:.2f} blocks automatic failover",
                )
                continue
            targets = self.failover_targets(tier, task.inc.severity)
            for n, target in enumerate(targets, 1):
                if self.try_failover(task, now, target, why, cap=True, last=n == len(targets)):
                    break

    def try_failover(self, task: _Task, now: int, target: str | None, why: str, cap: bool, last: bool = True) -> bool:
        """Fail the task over to ``target`` if it fits; else (when ``last``) send it to the degraded queue."""
        tier = self.needed_tier(task)
        if target is None:
            self.to_degraded(task, now, f"{why}; no tier above {tier} is up")
            return False
        work = self.remaining_work(task)
        used = self.unplanned[target]
        if cap and used + work > self.allowance[target] + 1e-6:
            if last:
                self.to_degraded(
                    task,
                    now,
                    f"{why}; failover allowance used ({used:,.0f} of {self.allowance[target]:,.0f} tokens "
                    f"on {target}): waits for {tier}",
                )
            return False
        left = sum(self.remaining[(q, target)] for q in range(len(self.phase_names))) + self.reserve_left[target]
        left -= self.unplanned[target] - self.fo_spent[target]  # committed to failovers still running
        if work > left + 1e-6:
            if last:
                self.to_degraded(task, now, f"{why}; {target} has {left:,.0f} tokens left, the task needs {work:,.0f}")
            return False
        self.unplanned[target] += work
        task.failover = True
        task.escalated = True
        task.route = "failover"
        self.counts["failover"] += 1
        if (
            target == self.top
            and (self.red_active or self.down)
            and task.inc.severity not in self.p.failover_severities
        ):
            self.frontier_for_low = True  # a red-button condition holds whenever a tier is down
        task.log(now, "failover", f"{why} -> {target} ({work:,.0f} tokens)")
        self.start(task, now, target, "failover")
        return True

    # --- work ---------------------------------------------------------------------------
    def run_minute(self, task: _Task, now: int) -> None:
        budget = float(TICK_SEC)
        while budget > 1e-9 and task.phase < len(self.order):
            p = self.order[task.phase]
            tier = task.tier if task.failover else self.work_tier[p]
            if tier in self.down or tier is None:
                task.state = "pending"
                task.log(now, "queued", f"{tier} is down at {self.phase_names[p]}")
                return
            if not task.failover and task.tier != tier:
                task.tier = tier
            take = min(budget, self.dur[p] - task.elapsed)
            frac = take / self.dur[p]
            tokens = self.W * self.share[p] * frac
            if not self.charge(p, tier, tokens, borrow=task.failover):
                task.quota_stalled = True
                task.log(now, "stalled", f"{tier} quota for {self.phase_names[p]} and its reserve are used up")
                self.to_degraded(task, now, f"{tier} quota exhausted at {self.phase_names[p]}")
                return
            if task.failover:
                self.fo_spent[tier] += tokens
            if task.review_needed and not task.failover and self.sc.routing != "close_silently":
                self.review(task, p, frac, now)
            task.elapsed += take
            budget -= take
            if task.elapsed >= self.dur[p] - 1e-9:
                task.phase += 1
                task.elapsed = 0.0
                if task.resolved_at is None and task.phase >= len(self.resolve_phases):
                    task.resolved_at = now + int(TICK_SEC - budget)
                    task.log(task.resolved_at, "resolved", f"pipeline done on {tier}")
        if task.phase >= len(self.order):
            if self.pm_index is not None:
                task.postmortem_done = True
            task.state = "done"

    def review(self, task: _Task, phase: int, frac: float, now: int) -> None:
        top = self.top
        sev = task.inc.severity
        if top in self.down:
            if not task.reviewed and task.events and task.events[-1][1] != "review-skipped":
                task.log(now, "review-skipped", f"{top} is down")
            return
        if self.red_active and sev not in self.p.failover_severities:
            if not any(e[1] == "review-skipped" for e in task.events or ()):
                task.log(now, "review-skipped", f"red button: {top} reserved for P0/P1")
            return
        tokens = self.W * self.p.review_share * self.share[phase] * frac
        if self.charge(phase, top, tokens):
            if not task.reviewed:
                task.reviewed = True
                task.escalated = True
                task.log(now, "review", f"{top} reviews ({'P0' if sev == 'P0' else 'disputed'})")

    # --- bookkeeping -------------------------------------------------------------------
    def open_queue(self) -> int:
        return sum(
            1
            for t in self.active
            if t.state in ("pending", "degraded") or (t.state == "manual" and not t.manual_closed)
        )

    def note_eligible(self) -> None:
        """Add the work of newly waiting tasks to the outage's eligible demand, per failover tier."""
        if not self.down or self.sc.routing in ("hold_all", "close_silently"):
            return
        for task in self.active:
            if task.state != "pending" or task.seen_eligible:
                continue
            task.seen_eligible = True
            tier = self.needed_tier(task)
            targets = (
                [self.failover_target(tier)]
                if self.sc.routing == "all_to_frontier"
                else self.failover_targets(tier, task.inc.severity)
            )
            work = self.remaining_work(task)
            for t in targets:
                if t is not None:
                    self.eligible[t] += work

    def compute_health(self) -> float:
        """token_health = h_frontier x h_backlog (docs/model.md)."""
        h_f = 1.0
        for t in self.tiers[1:]:
            q = self.quota_total[t]
            if q <= 0 or t in self.down:
                continue
            committed = self.unplanned[t]
            # during an outage the keeper earmarks what the eligible tasks need, up to the allowance
            earmark = min(self.allowance[t], self.eligible[t]) if self.down else 0.0
            exposure = max(committed, earmark)
            first = 1.0 - exposure / (q + self.reserve_total)
            beyond = max(0.0, exposure - self.spare[t])  # failover that displaces the tier's planned work
            second = 1.0 - beyond / max(self.demand[t], 1.0)
            h_f = min(h_f, max(0.0, first) * max(0.0, second))
        h_b = self.absorb / (self.absorb + self.snap_owed)
        self.h_parts = (h_f, h_b)
        return min(1.0, max(0.0, h_f * h_b))

    def red_button(self, now: int, tick: int) -> None:
        p = self.p
        conds = []
        w = self.window_health
        if len(w) >= 3 and w[-1] < w[-2] - 1e-9 and w[-2] < w[-3] - 1e-9:
            conds.append("token_health risk grew in two consecutive windows")
        oq = self.snap_open
        if oq > p.queue_limit:
            conds.append(f"queue {oq} above limit {p.queue_limit}")
        for t in self.active:
            if t.inc.severity in ("P0", "P1") and t.resolved_at is None and not t.manual_closed:
                if now - t.inc.arrival_sec > self.sla[t.inc.severity]:
                    conds.append(f"SLA breach for {t.inc.severity} ({t.inc.id})")
                    break
        for tier in self.tiers:
            if tier in self.down:
                conds.append(f"{tier} endpoint down")
        new = tuple(conds)
        kinds = tuple(c.split(" (")[0] for c in new)
        old_kinds = tuple(c.split(" (")[0] for c in self.red_conditions)
        if new and not self.red_active:
            self.red_active = True
            self.red_activated = True
            self.red_events.append({"time": _clock(now), "active": True, "conditions": list(new)})
        elif not new and self.red_active and tick % p.window_min == 0:
            self.red_active = False
            self.red_events.append({"time": _clock(now), "active": False, "conditions": []})
        elif new and kinds != old_kinds:
            self.red_events.append({"time": _clock(now), "active": True, "conditions": list(new)})
        if new or self.red_active:
            self.red_conditions = new
        if self.red_active:
            self.red_minutes += 1


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, math.ceil(q * len(s)) - 1)
    return s[k]


def _r(x: float, nd: int = 4) -> float:
    return round(x + 0.0, nd)


def simulate(
    spec: BudgetSpec,
    scenario: Scenario,
    routing: str | None = None,
    progress: Callable[[float], None] | None = None,
    include_decisions: bool = True,
    include_timeline: bool = True,
) -> SimResult:
    """Run the budget keeper over ``scenario`` with the budget of ``spec``.

    ``routing`` overrides the scenario's policy (``ranked``, ``all_to_frontier``,
    ``hold_all``). ``progress`` is called with 0..1 as the ticks go by.
    """
    if routing is not None:
        from budget.scenario import ROUTING_POLICIES

        if routing not in ROUTING_POLICIES:
            raise BudgetError(f"unknown routing policy {routing!r} (use {', '.join(ROUTING_POLICIES)})")
        scenario = scenario.model_copy(update={"routing": routing})
    if scenario.down_tier is not None and scenario.down_tier not in spec.tiers:
        raise BudgetError(
            f"{scenario.source}: down_tier: unknown tier {scenario.down_tier!r} "
            f"(the plan's tiers: {', '.join(spec.tiers)})"
        )
    k = _Keeper(spec, scenario, spec.policy)
    p = spec.policy
    incidents = scenario.incidents
    out_start = out_end = None
    if scenario.has_outage:
        out_start = scenario.start_min
        out_end = out_start + int(scenario.duration_min or 0)
    if scenario.horizon == "day":
        first, last = 0, 1440 + p.drain_min
    else:
        marks = [m for m in (out_start,) if m is not None] + [i.arrival_sec // 60 for i in incidents[:1]]
        first = min(marks) if marks else scenario.start_min
        last_arrival = incidents[-1].arrival_sec // 60 if incidents else first
        last = max(out_end or first, last_arrival + 1) + p.drain_min
    total_ticks = max(1, last - first)
    k.tasks = [_Task(inc=i) if include_decisions else _Task(inc=i, events=None) for i in incidents]
    if out_start is not None and out_end is not None and scenario.down_tier is not None:
        k.outages.append((out_start, out_end, scenario.down_tier))
    k.forecast(incidents)
    nxt = 0
    for tick in range(total_ticks):
        minute = first + tick
        now = minute * 60
        # 1. tier status: outages (the scenario's, and relapses) start and end; waiting work resumes
        k.starts = {}
        for down_from, up_at, tier in list(k.outages):
            if minute == down_from:
                k.go_down(tier, now)
            if minute == up_at:
                k.recover(tier, now, minute)
        k.resume(now, minute)
        # 2. arrivals
        k.oq = k.open_queue() if k.red_active else 0
        while nxt < len(k.tasks) and k.tasks[nxt].inc.arrival_sec <= now:
            task = k.tasks[nxt]
            nxt += 1
            k.active.append(task)
            task.log(
                task.inc.arrival_sec, "arrived", f"{task.inc.severity}, blast radius {_num(task.inc.blast_radius)}"
            )
            k.admit(task, now)
        # 3. manual timeout
        if scenario.routing != "hold_all":
            for t in k.active:
                if (
                    t.state == "degraded"
                    and t.degraded_since is not None
                    and now - t.degraded_since >= scenario.manual_timeout_sec
                ):
                    k.to_manual(
                        t,
                        now,
                        "timeout",
                        f"waited {now - t.degraded_since}s in the degraded queue "
                        f"(timeout {_num(scenario.manual_timeout_sec)}s)",
                    )
        # 4. routing
        k.note_eligible()
        k.route_pending(now)
        # 5. work
        for t in k.active:
            if t.state == "running":
                k.run_minute(t, now)
        # 6. manual closes
        for t in k.active:
            if t.state == "manual" and not t.manual_closed and t.manual_since is not None:
                if now + TICK_SEC - t.manual_since >= p.manual_resolve_min * 60:
                    t.manual_closed = True
                    t.resolved_at = t.manual_since + int(p.manual_resolve_min * 60)
                    t.log(t.resolved_at, "resolved", "closed by hand in the manual channel (proof protocol kept)")
                    if scenario.down_tier in k.down or scenario.recovery != "instant":
                        k.owed.append(t)  # audited when the tier can take it (resume)
                    else:
                        _audit(k, t, now)
        # 7. rework accrues while work waits on a down tier; one pass also counts the queues
        _scan(k)
        k.active = [t for t in k.active if t.state != "done" and not (t.state == "manual" and t.manual_closed)]
        # 8. health, red button, timeline
        k.health = k.compute_health()
        k.health_hist.append(k.health)
        if (tick + 1) % p.window_min == 0:
            k.window_health.append(k.health)
        if k.health < p.alert_threshold and not k.guard_below:
            k.guard_breaches.append(_clock(now))
        k.guard_below = k.health < p.alert_threshold
        k.red_button(now, tick + 1)
        if scenario.recovery == "staged" and (tick + 1) % p.window_min == 0:
            k.silent_hist.append(
                sum(
                    1
                    for t in k.tasks
                    if t.inc.severity == "P0" and t.resolved_at is not None and not t.escalated and t.route != "manual"
                )
            )
        k.after_minute(now, minute)
        k.max_open = max(k.max_open, k.snap_open)
        if include_timeline:
            k.timeline.append(_row(k, minute))
        if progress is not None and (tick % 60 == 0 or tick == total_ticks - 1):
            progress((tick + 1) / total_ticks)
    return SimResult(_result(k, scenario, first, last, include_decisions))


def _second_dip(k: _Keeper, first: int) -> float:
    """Deepest fall of token_health from its running peak after the first recovery (0: no second dip)."""
    if k.first_recovery is None:
        return 0.0
    start = k.first_recovery - first
    peak, dip = 0.0, 0.0
    for h in k.health_hist[start:]:
        peak = max(peak, h)
        dip = max(dip, peak - h)
    return dip


def _audit(k: _Keeper, t: _Task, now: int) -> None:
    """The PostToolUse audit of a manual decision: pay its rework and run the postmortem."""
    tier = k.spec.cheapest if k.spec.cheapest not in k.down else k.tiers[-1]
    k.pay_rework(t, tier)
    t.audited = True
    if k.pm_index is not None:
        tokens = k.W * k.share[k.pm_index]
        if k.charge(k.pm_index, tier, tokens):
            t.postmortem_done = True
            t.log(now, "audit", f"PostToolUse audit and postmortem on {tier}")
        else:
            t.log(now, "audit", f"PostToolUse audit on {tier}; no quota left for the postmortem")
    else:
        t.log(now, "audit", f"PostToolUse audit on {tier}")
    t.state = "done"


def _scan(k: _Keeper) -> None:
    """One pass over the open tasks: accrue rework while a tier is down, count queues and owed tokens."""
    p = k.p
    down = bool(k.down)
    rate = p.rework_per_min * k.W
    weight = p.risk_weight
    states = {"pending": 0, "degraded": 0, "manual": 0, "running": 0, "failover": 0}
    by_phase = dict.fromkeys(k.phase_names, 0)
    owed = 0.0
    any_waiting = False
    n_order = len(k.order)
    for t in k.active:
        st = t.state
        if st == "manual" and t.manual_closed:
            continue
        if down and (st == "degraded" or (st == "manual" and not t.audited)):
            t.wait_min += 1
            t.rework_owed += rate * weight[t.inc.severity]
            any_waiting = True
        owed += t.rework_owed
        if st == "running" and t.failover:
            states["failover"] += 1
        elif st in states:
            states[st] += 1
        if (st == "pending" or st == "degraded") and t.phase < n_order:
            by_phase[k.phase_names[k.order[t.phase]]] += 1
    for t in k.owed:
        if t.manual_closed and t.state != "done":
            if down:
                t.wait_min += 1
                t.rework_owed += rate * weight[t.inc.severity]
                any_waiting = True
            owed += t.rework_owed
    if any_waiting:
        k.degraded_minutes += 1
    k.snap_states = states
    k.snap_phase = by_phase
    k.snap_owed = owed
    k.snap_open = states["pending"] + states["degraded"] + states["manual"]


def _row(k: _Keeper, minute: int) -> dict[str, Any]:
    states = k.snap_states
    by_phase = k.snap_phase
    spent = {t: round(k.spent_tier[t]) for t in k.tiers}
    return {
        "time": format_clock(minute),
        "token_health": _r(k.health),
        "h_frontier": _r(k.h_parts[0]),
        "h_backlog": _r(k.h_parts[1]),
        "down": sorted(k.down),
        "red_button": k.red_active,
        "stage": k.stage,
        **states,
        "queue_by_phase": by_phase,
        "spent": spent,
        "reserve_used": round(sum(k.reserve_used.values())),
        "rework_owed": round(k.snap_owed),
    }


def _result(k: _Keeper, sc: Scenario, first: int, last: int, include_decisions: bool = True) -> dict[str, Any]:
    p = k.p
    tasks = k.tasks
    horizon_end = last * 60
    resolve_times = []
    sla = {s: 0 for s in SEVERITIES}
    for t in tasks:
        end = t.resolved_at if t.resolved_at is not None else horizon_end
        resolve_times.append(end - t.inc.arrival_sec)
        if end - t.inc.arrival_sec > k.sla[t.inc.severity]:
            sla[t.inc.severity] += 1
    p0 = [t for t in tasks if t.inc.severity == "P0"]
    silent = [t for t in p0 if t.resolved_at is not None and not t.escalated and t.route != "manual"]
    manual = [t for t in tasks if t.route == "manual"]
    unresolved_manual = [t for t in manual if not t.manual_closed]
    resolved = [t for t in tasks if t.resolved_at is not None]
    no_pm = [t for t in resolved if k.pm_index is not None and not t.postmortem_done]
    n = len(tasks)
    target = k.tiers[-1]
    trend = 0.0
    hist = [1.0] + k.health_hist
    for i in range(5, len(hist)):
        trend = min(trend, hist[i] - hist[i - 5])
    if len(hist) <= 5 and len(hist) > 1:
        trend = min(trend, hist[-1] - hist[0])
    th_min = min(k.health_hist) if k.health_hist else 1.0
    min_at = k.health_hist.index(th_min) if k.health_hist else 0
    tiers_out = {}
    for tier in k.tiers:
        spent = sum(k.spent[(i, tier)] for i in range(len(k.phase_names)))
        tiers_out[tier] = {
            "quota": int(k.quota_total[tier]),
            "spent": round(spent),
            "remaining": round(k.quota_total[tier] - spent),
            "failover_allowance": round(k.allowance[tier]) if tier != k.tiers[0] else 0,
            "failover_tokens": round(k.unplanned[tier]),
            "reserve": int(k.spec.reserve.get(tier, 0)),
            "reserve_used": round(k.reserve_used[tier]),
        }
    phases_out = {}
    for i, name in enumerate(k.phase_names):
        phases_out[name] = {
            t: {
                "quota": int(k.spec.phases[name].quotas.get(t, 0)),
                "spent": round(k.spent[(i, t)]),
                "remaining": round(k.remaining[(i, t)]),
            }
            for t in k.tiers
        }
    escalated = sum(1 for t in tasks if t.escalated)
    data: dict[str, Any] = {
        "down_tier": sc.down_tier,
        "duration_min": sc.duration_min,
        "queue": sc.queue,
        "manual_timeout_sec": _num(sc.manual_timeout_sec),
        "failover_to_frontier": k.counts["failover"],
        "degraded_queue": k.counts["degraded"],
        manual_key(sc.manual_timeout_sec): k.counts["manual_timeout"],
        "token_health_min": _r(th_min),
        "reserve_capacity_tasks": int(k.allowance[target] // k.W) if len(k.tiers) > 1 else 0,
        "start": sc.start,
        "policy": sc.routing,
        "failover_tier": target,
        "manual_queue": len(manual),
        "manual_by_guard": k.counts["manual_guard"],
        "manual_by_intake_limit": k.counts["manual_intake"],
        "token_health_min_at": format_clock(first + min_at),
        "alert_threshold": p.alert_threshold,
        "guard": {
            "alert_threshold": p.alert_threshold,
            "breached": th_min < p.alert_threshold,
            "first_breach": k.guard_breaches[0] if k.guard_breaches else None,
            "margin": _r(th_min - p.alert_threshold),
        },
        "mttr_p95": round(_percentile(resolve_times, 0.95)),
        "mttr_p95_critical": round(
            _percentile([r for r, t in zip(resolve_times, tasks, strict=True) if t.inc.severity in ("P0", "P1")], 0.95)
        ),
        "escalation_share": _r(escalated / n if n else 0.0),
        "escalation_ratio": _r(escalated / n if n else 0.0),
        "silent_p0": _r(len(silent) / len(p0) if p0 else 0.0),
        "unresolved_manual_ratio": _r(len(unresolved_manual) / len(manual) if manual else 0.0),
        "postmortem_gap": _r(len(no_pm) / len(resolved) if resolved else 0.0),
        "sla_breaches": sla,
        "token_health_trend_5m": _r(trend),
        "queue_pressure": _r(k.max_open / p.queue_limit),
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
            "second_dip": _r(_second_dip(k, first)),
        },
        "manual_channel_open": len(manual) > 0,
        "frontier_reserved_for_p0_p1": not k.frontier_for_low,
        "incidents": n,
        "tiers": tiers_out,
        "phases": phases_out,
        "reserve_used": round(sum(k.reserve_used.values())),
    }
    data["timeline"] = k.timeline
    if not include_decisions:
        return data
    data["decisions"] = [
        {
            "id": t.inc.id,
            "severity": t.inc.severity,
            "blast_radius": _num(t.inc.blast_radius),
            "arrival": _clock(t.inc.arrival_sec),
            "route": t.route,
            "resolved_at": _clock(t.resolved_at) if t.resolved_at is not None else None,
            "time_to_resolve_sec": (t.resolved_at - t.inc.arrival_sec) if t.resolved_at is not None else None,
            "waited_min": t.wait_min,
            "events": [{"time": _clock(e[0]), "action": e[1], "reason": e[2]} for e in (t.events or [])],
        }
        for t in tasks
    ]
    return data
