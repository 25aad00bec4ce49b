"""Work: one minute of each running task through its phases, the frontier review, manual closes."""

from __future__ import annotations

from budget.keeper.accounting import charge
from budget.keeper.moves import audit, to_degraded
from budget.keeper.state import Keeper
from budget.keeper.task import TICK_SEC, Task


def run_minute(k: Keeper, task: Task, now: int) -> None:
    budget = float(TICK_SEC)
    while budget > 1e-9 and task.phase < len(k.order):
        p = k.order[task.phase]
        tier = task.tier if task.failover else k.work_tier[p]
        if tier in k.down or tier is None:
            task.state = "pending"
            task.log(now, "queued", f"{tier} is down at {k.phase_names[p]}")
            return
        if not task.failover and task.tier != tier:
            task.tier = tier
        take = min(budget, k.dur[p] - task.elapsed)
        frac = take / k.dur[p]
        tokens = k.W * k.share[p] * frac
        if not charge(k, p, tier, tokens, borrow=task.failover):
            task.quota_stalled = True
            task.log(now, "stalled", f"{tier} quota for {k.phase_names[p]} and its reserve are used up")
            to_degraded(k, task, now, f"{tier} quota exhausted at {k.phase_names[p]}")
            return
        if task.failover:
            k.fo_spent[tier] += tokens
        if task.review_needed and not task.failover and k.sc.routing != "close_silently":
            review(k, task, p, frac, now)
        task.elapsed += take
        budget -= take
        if task.elapsed >= k.dur[p] - 1e-9:
            task.phase += 1
            task.elapsed = 0.0
            if task.resolved_at is None and task.phase >= len(k.resolve_phases):
                task.resolved_at = now + int(TICK_SEC - budget)
                task.log(task.resolved_at, "resolved", f"pipeline done on {tier}")
    if task.phase >= len(k.order):
        if k.pm_index is not None:
            task.postmortem_done = True
        task.state = "done"


def review(k: Keeper, task: Task, phase: int, frac: float, now: int) -> None:
    top = k.top
    sev = task.inc.severity
    if top in k.down:
        if not task.reviewed and task.events and task.events[-1][1] != "review-skipped":
            task.log(now, "review-skipped", f"{top} is down")
        return
    if k.red_active and sev not in k.p.failover_severities:
        if not any(e[1] == "review-skipped" for e in task.events or ()):
            task.log(now, "review-skipped", f"red button: {top} reserved for P0/P1")
        return
    tokens = k.W * k.p.review_share * k.share[phase] * frac
    if charge(k, phase, top, tokens):
        if not task.reviewed:
            task.reviewed = True
            task.escalated = True
            task.log(now, "review", f"{top} reviews ({'P0' if sev == 'P0' else 'disputed'})")


def close_manual(k: Keeper, now: int) -> None:
    """Humans close a manual task ``manual_resolve_min`` after it entered the channel."""
    for t in k.active:
        if t.state == "manual" and not t.manual_closed and t.manual_since is not None:
            if now + TICK_SEC - t.manual_since >= k.p.manual_resolve_min * 60:
                t.manual_closed = True
                t.resolved_at = t.manual_since + int(k.p.manual_resolve_min * 60)
                t.log(t.resolved_at, "resolved", "closed by hand in the manual channel (proof protocol kept)")
                if k.sc.down_tier in k.down or k.sc.recovery != "instant":
                    k.owed.append(t)  # audited when the tier can take it (recovery.resume)
                else:
                    audit(k, t, now)
