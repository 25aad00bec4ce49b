"""Routing: admitting arrivals, and deciding where tasks go while their tier is down.

Policies (the scenario's ``policy``): ``ranked`` (the chapter's ranked failover),
``all_to_frontier`` and ``hold_all`` (the two traps), ``close_silently`` (the
Goodhart variant). See docs/model.md, "One tick", step 4.
"""

from __future__ import annotations

from budget.keeper.accounting import queued_on, remaining_work, tokens_left
from budget.keeper.moves import start, to_degraded, to_manual
from budget.keeper.recovery import can_start
from budget.keeper.result import health_text
from budget.keeper.state import Keeper
from budget.keeper.task import Task, num


def failover_targets(k: Keeper, tier: str, severity: str) -> list[str]:
    """Tiers above ``tier`` that are up and take this severity, cheapest first."""
    out = []
    for t in k.tiers[k.tiers.index(tier) + 1 :]:
        if t in k.down or k.quota_total[t] <= 0:
            continue
        allowed = k.p.failover_severities if t == k.top else k.p.mid_failover_severities
        if severity in allowed:
            out.append(t)
    return out


def failover_target(k: Keeper, tier: str) -> str | None:
    """The next tier above ``tier`` that is up, whatever the severity (all_to_frontier)."""
    i = k.tiers.index(tier)
    for t in k.tiers[i + 1 :]:
        if t not in k.down:
            return t
    return None


def admit(k: Keeper, task: Task, now: int) -> None:
    p = k.p
    if k.red_active and k.oq >= p.queue_limit:
        why = f"red button: intake limited (open queue {k.oq} >= {p.queue_limit})" if task.events is not None else ""
        to_manual(k, task, now, "intake", why)
        k.oq += 1
        return
    tier = k.needed_tier(task)
    if tier in k.down:
        k.oq += 1
        task.state = "pending"
        if task.events is not None:
            task.log(now, "queued", f"{tier} is down: waiting for the keeper's routing decision")
    elif not can_start(k, task, tier):
        to_degraded(k, task, now, f"staged return, stage {k.stage}: {tier} is at its capacity")
    else:
        k.starts[tier] = k.starts.get(tier, 0) + 1
        start(task, now, tier, "normal routing")


def route_pending(k: Keeper, now: int) -> None:
    p = k.p
    routing = k.sc.routing
    pending = [t for t in k.active if t.state == "pending"]
    if not pending:
        return
    candidates: list[Task] = []
    for task in pending:
        tier = k.needed_tier(task)
        if tier not in k.down:
            to_degraded(k, task, now, f"waited for {tier} through the outage")
            continue  # resume() starts it within the tier's capacity
        if routing == "close_silently":
            task.state = "done"
            task.route = "closed"
            task.resolved_at = now
            task.log(now, "resolved", f"close_silently: closed without escalation while {tier} is down")
        elif routing == "hold_all":
            to_degraded(k, task, now, f"hold_all: every task waits for {tier}")
        elif routing == "all_to_frontier":
            try_failover(
                k,
                task,
                now,
                failover_target(k, tier),
                "all_to_frontier: every task goes to the expensive tier",
                cap=False,
            )
        elif not failover_targets(k, tier, task.severity):
            to_degraded(k, task, now, f"{task.severity} is not eligible for failover: waits for {tier}")
        elif now - task.arrival_sec <= p.failover_min_age_sec:
            continue  # inside the ranking window; decided once older than failover_min_age_sec
        else:
            candidates.append(task)
    if not candidates:
        return
    candidates.sort(key=lambda t: (-t.inc.blast_radius, t.arrival_sec, t.inc.id))
    for rank, task in enumerate(candidates, 1):
        tier = k.needed_tier(task)
        age = now - task.arrival_sec
        why = f"rank {rank}: {task.severity}, blast radius {num(task.inc.blast_radius)}, age {age}s"
        if k.health < p.alert_threshold:
            to_manual(
                k,
                task,
                now,
                "guard",
                f"{why}; guard: token_health {health_text(k.health)} < {p.alert_threshold:.2f} "
                "blocks automatic failover",
            )
            continue
        targets = failover_targets(k, tier, task.severity)
        for n, target in enumerate(targets, 1):
            if try_failover(k, task, now, target, why, cap=True, last=n == len(targets)):
                break


def try_failover(k: Keeper, task: Task, now: int, target: str | None, why: str, cap: bool, last: bool = True) -> bool:
    """Fail the task over to ``target`` if it fits; else (when ``last``) send it to the degraded queue."""
    tier = k.needed_tier(task)
    if target is None:
        to_degraded(k, task, now, f"{why}; no tier above {tier} is up")
        return False
    work = remaining_work(k, task)
    used = k.unplanned[target]
    if cap and used + work > k.allowance[target] + 1e-6:
        if last:
            to_degraded(
                k,
                task,
                now,
                f"{why}; {used:,.0f} of the {k.allowance[target]:,.0f} tokens of {target}'s failover allowance "
                f"are committed and this task needs {work:,.0f} more: waits for {tier}",
            )
        return False
    # minus failovers still running
    left = tokens_left(k, target) - (k.unplanned[target] - k.fo_spent[k.tier_index[target]])
    if work > left + 1e-6:
        if last:
            to_degraded(k, task, now, f"{why}; {target} has {left:,.0f} tokens left, the task needs {work:,.0f}")
        return False
    if cap:
        # capacity: the tier must finish the task within its SLA, behind the work already in its line
        line = queued_on(k, target)
        tpm = k.cap[k.tier_index[target]]
        finish = now + 60 * (line + work) / tpm if tpm > 0 else float("inf")
        deadline = task.arrival_sec + k.sla[task.severity]
        if finish > deadline:
            if last:
                to_degraded(
                    k,
                    task,
                    now,
                    f"{why}; {target} is at capacity ({line:,.0f} tokens in line at {tpm:,.0f} a "
                    f"minute): the task would miss its {task.severity} SLA there",
                )
            return False
    k.unplanned[target] += work
    task.failover = True
    task.escalated = True
    task.route = "failover"
    k.counts["failover"] += 1
    k.failover_by[target] += 1
    if target == k.top and (k.red_active or k.down) and task.severity not in k.p.failover_severities:
        k.frontier_for_low = True  # a red-button condition holds whenever a tier is down
    task.log(now, "failover", f"{why} -> {target} ({work:,.0f} tokens)")
    start(task, now, target, "failover")
    return True


def note_eligible(k: Keeper) -> None:
    """Add the work of newly waiting tasks to the outage's eligible demand, per failover tier."""
    if not k.down or k.sc.routing in ("hold_all", "close_silently"):
        return
    for task in k.active:
        if task.state != "pending" or task.seen_eligible:
            continue
        task.seen_eligible = True
        tier = k.needed_tier(task)
        targets = (
            [failover_target(k, tier)]
            if k.sc.routing == "all_to_frontier"
            else failover_targets(k, tier, task.severity)
        )
        work = remaining_work(k, task)
        for t in targets:
            if t is not None:
                k.eligible[t] += work
