"""Token accounting: charging quota[phase][tier] and the reserve, rework, remaining work, planned demand."""

from __future__ import annotations

from collections.abc import Sequence

from budget.keeper.state import Keeper
from budget.keeper.task import Task
from budget.keeper.workload import needs_review
from budget.model import Incident


def charge(k: Keeper, phase: int, tier: str, tokens: float, borrow: bool = False) -> bool:
    """Take tokens from quota[phase][tier], then the tier's reserve; False if short.

    Failover work (``borrow``) is unplanned for the tier, so it may also draw on
    the tier's other phase quotas, largest remaining first.
    """
    key = k.slot(phase, tier)
    remaining = k.remaining
    have = remaining[key]
    if have >= tokens:  # the common case: the phase's quota pays it all (what the general case below does then)
        remaining[key] = have - tokens
        k.spent[key] += tokens
        k.spent_tier[k.tier_index[tier]] += tokens
        return True
    others: list[int] = []  # the tier's other phases' slots, largest remaining first (then phase order)
    extra = 0.0
    if borrow and have + k.reserve_left[tier] + 1e-6 < tokens:
        slots = range(k.slot(0, tier), len(remaining), len(k.tiers))  # the tier's slot in every phase
        others = sorted((q for q in slots if q != key and remaining[q] > 0), key=lambda q: (-remaining[q], q))
        extra = sum(remaining[q] for q in others)
    if have + k.reserve_left[tier] + extra + 1e-6 < tokens:
        return False
    take = min(have, tokens)
    remaining[key] = have - take
    rest = tokens - take
    for q in others:
        if rest <= 0:
            break
        part = min(rest, remaining[q])
        remaining[q] -= part
        rest -= part
    if rest > 0:
        rest = min(rest, k.reserve_left[tier])
        k.reserve_left[tier] -= rest
        k.reserve_used[tier] += rest
    k.spent[key] += tokens
    k.spent_tier[k.tier_index[tier]] += tokens
    return True


def pay_rework(k: Keeper, task: Task, tier: str) -> None:
    """Rework owed is paid from the tier's control reserve first, then the current phase."""
    amount = task.rework_owed
    if amount <= 0:
        return
    from_reserve = min(amount, k.reserve_left[tier])
    k.reserve_left[tier] -= from_reserve
    k.reserve_used[tier] += from_reserve
    rest = amount - from_reserve
    phase = k.order[min(task.phase, len(k.order) - 1)]
    key = k.slot(phase, tier)
    take = min(rest, k.remaining[key])
    k.remaining[key] -= take
    k.spent[key] += from_reserve + take
    k.spent_tier[k.tier_index[tier]] += from_reserve + take
    task.rework_owed = 0.0


def remaining_work(k: Keeper, task: Task) -> float:
    """Tokens the task still needs to finish its pipeline (postmortem included)."""
    idx = task.phase
    if idx >= len(k.order):
        return 0.0
    p = k.order[idx]
    left = k.W * k.share[p] * (1 - task.elapsed / k.dur[p])
    return left + sum(k.W * k.share[q] for q in k.order[idx + 1 :])


def tokens_left(k: Keeper, tier: str) -> float:
    """What the tier can still spend: every phase quota plus its reserve."""
    return max(0.0, k.quota_total[tier] - k.spent_tier[k.tier_index[tier]])  # every charge is counted in spent_tier


def forecast(k: Keeper, incidents: Sequence[Incident], disputed: Sequence[bool]) -> None:
    """Planned demand per tier for the run's incidents, and the spare capacity it leaves."""
    per_task = {t: 0.0 for t in k.tiers}
    for p in k.order:
        per_task[k.work_tier[p]] += k.W * k.share[p]
    reviews = sum(1 for i, d in zip(incidents, disputed, strict=True) if needs_review(i, d))
    n = len(incidents)
    for t in k.tiers:
        k.demand[t] = per_task[t] * n
    k.demand[k.top] += reviews * k.W * k.p.review_share
    for t in k.tiers:
        k.spare[t] = max(0.0, k.quota_total[t] - k.demand[t])


def queued_on(k: Keeper, tier: str) -> float:
    """Tokens waiting to be served by ``tier``: running tasks' remaining work on it, and its queued reviews."""
    total = 0.0
    for t in k.active:
        if t.state != "running":
            continue
        if t.failover:
            if t.tier == tier:
                total += remaining_work(k, t)
            continue
        for n, p in enumerate(k.order[t.phase :]):
            if k.work_tier[p] == tier:
                total += k.W * k.share[p] * ((1 - t.elapsed / k.dur[p]) if n == 0 else 1.0)
    if tier == k.top:
        total += sum(t.review_left for t in k.review_queue if t.review == "queued")
    return total


def plan_need(k: Keeper, tier: str) -> float:
    """What the tier must still pay for: the day's planned work not yet spent, and the failover it committed to.

    The plan is the forecast ``D``: work that left it (a task gone manual, failed over) still counts, so a
    smaller budget never looks better covered because more of its work went to humans.
    """
    i = k.tier_index[tier]
    planned_left = max(0.0, k.demand[tier] - k.planned_spent[i])
    return planned_left + max(0.0, k.unplanned[tier] - k.fo_spent[i])


def spare_tokens(k: Keeper, tier: str) -> float:
    """What the tier has beyond what its plan still needs."""
    return tokens_left(k, tier) - plan_need(k, tier)
