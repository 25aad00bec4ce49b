"""Work: one minute of every running task and queued frontier review, within each tier's capacity.

Each tier serves at most its capacity (``budget.model.capacity``: tokens a minute)
in a minute, first come first served: a task's place in line is when its
current phase began, a review's when it was requested. A task that gets less
than a full minute's tokens advances only as far as they pay for; one that
gets nothing waits. A review (P0 or disputed task) is a job of
``review_share * W`` tokens on the most expensive tier. A task whose pipeline
is done waits for its review, unless the review cannot finish within the
task's SLA: then the pipeline closes the task without escalation (what
``silent_p0`` counts for P0).
"""

from __future__ import annotations

from budget.keeper.accounting import charge, spare_tokens, tokens_left
from budget.keeper.moves import audit, request_review, to_degraded
from budget.keeper.recovery import stage_allows
from budget.keeper.state import Keeper
from budget.keeper.task import TICK_SEC, Task
from budget.model import SEVERITIES


def run_work(k: Keeper, now: int) -> None:
    """One minute of work for every running task and queued review, first come first served."""
    ask = k.sc.routing != "close_silently" and k.top not in k.down
    # place in line: committed work (WORK) before every review, each by (since, arrival, id), one number:
    # since x tasks + the incident's rank in (arrival, id) order; the sort is stable, so the task admitted
    # first goes first on a tie. One pass also requests the reviews now due.
    line = []
    for t in k.active:
        if t.state == "running":
            if ask and t.review_needed and t.review == "none" and not t.failover:
                request_review(k, t, now)
            line.append(t)
    span = len(k.tasks)
    if len(line) > 1 and not _in_line_order(line, span):  # tasks advance in step: the line is mostly in order
        line.sort(key=lambda t: t.phase_since * span + t.rank)
    for t in line:
        if t.state == "running":
            run_minute(k, t, now)
    if len(k.review_queue) > 1:
        if k.ranks_distinct:  # review_key's order as one number: class, then request time, then rank
            since_span = k.last * 60 + TICK_SEC + 1  # above every request time
            if not _in_review_order(k.review_queue, since_span, span):
                k.review_queue.sort(key=lambda t: (review_class(t) * since_span + t.review_since) * span + t.rank)
        else:
            k.review_queue.sort(key=review_key)
    if k.top not in k.down:  # else no review can be served
        cap_left = k.cap_left
        top = k.tier_index[k.top]
        quiet = not (k.red_active and k.include_decisions)  # the red button's waits are only logged
        for t in k.review_queue:
            if t.review == "queued":
                if quiet and cap_left[top] <= 1e-9:
                    break  # the tier is at its capacity: every review behind waits
                serve_review(k, t, now)
    settle_reviews(k, now)
    for i, cap in enumerate(k.cap):
        if cap > 0:
            k.peak_use[i] = max(k.peak_use[i], (cap - k.cap_left[i]) / cap)


def _in_line_order(line: list[Task], span: int) -> bool:
    """Whether the line is already in order (what its sort would leave as it is)."""
    prev = -1
    for t in line:
        key = t.phase_since * span + t.rank
        if key < prev:
            return False
        prev = key
    return True


def _in_review_order(queue: list[Task], since_span: int, span: int) -> bool:
    """Whether the review queue is already in order (what its sort would leave as it is)."""
    prev = -1
    for t in queue:
        key = (review_class(t) * since_span + t.review_since) * span + t.rank
        if key < prev:
            return False
        prev = key
    return True


# the order in which a tier serves its line: committed work, then the outage's audits, then reviews by severity
WORK, POST_ANALYSIS, REVIEW = 0, 1, 2
REMEDIATION = "remediation"


def review_class(t: Task) -> int:
    if t.post_analysis:
        return POST_ANALYSIS
    return REVIEW + _RANK[t.severity]


_RANK = {sev: i for i, sev in enumerate(SEVERITIES)}


def review_key(t: Task) -> tuple[int, int, int, str]:
    """A review's place in the frontier's line: its class, when it was requested, the incident's arrival and id."""
    return (review_class(t), t.review_since, t.arrival_sec, t.inc.id)


def run_minute(k: Keeper, task: Task, now: int) -> None:
    budget = float(TICK_SEC)
    order, down, cap_left, remaining = k.order, k.down, k.cap_left, k.remaining
    n_order = len(order)
    while budget > 1e-9 and task.phase < n_order:
        p = order[task.phase]
        failover = task.failover
        tier = task.tier if failover else k.work_tier[p]
        if tier in down or tier is None:
            task.state = "pending"
            task.log(now, "queued", f"{tier} is down at {k.phase_names[p]}")
            return
        ti = k.tier_index[tier] if failover else k.work_tier_i[p]  # the tier's place in the per-tier lists
        if not failover and task.tier != tier:
            task.tier = tier
        if task.elapsed == 0 and not held_back(k, task, p, tier, now):
            return
        dur = k.dur[p]
        take = min(budget, dur - task.elapsed)
        rate = k.rate[p]  # tokens a second in this phase
        tokens = rate * take
        left = cap_left[ti]
        capped = tokens > left + 1e-9
        if capped:
            if left <= 1e-9:
                return  # the tier is at its capacity this minute: the task waits in line
            tokens = left
            take = tokens / rate
        key = k.slot(p, tier) if failover else k.work_slot[p]
        have = remaining[key]
        if have >= tokens:  # charge()'s common case, inline: this loop runs for every task every minute
            remaining[key] = have - tokens
            k.spent[key] += tokens
            k.spent_tier[ti] += tokens
        elif not charge(k, p, tier, tokens, borrow=failover):
            task.quota_stalled = True
            task.log(now, "stalled", f"{tier} quota for {k.phase_names[p]} and its reserve are used up")
            to_degraded(k, task, now, f"{tier} quota exhausted at {k.phase_names[p]}")
            return
        cap_left[ti] = left - tokens
        if failover:
            k.fo_spent[ti] += tokens
        else:
            k.planned_spent[ti] += tokens
        task.elapsed += take
        budget -= take
        if capped:
            return
        if task.elapsed >= dur - 1e-9:
            task.phase += 1
            task.elapsed = 0.0
            task.phase_since = now
            if task.work_done_at is None and task.phase >= len(k.resolve_phases):
                task.work_done_at = now + int(TICK_SEC - budget)
                if task.review != "queued":
                    task.resolved_at = task.work_done_at
                    if task.events is not None:
                        task.log(task.resolved_at, "resolved", f"pipeline done on {tier}")
    if task.phase >= n_order:
        if k.pm_index is not None:
            task.postmortem_done = True
        task.state = "done"


def held_back(k: Keeper, task: Task, phase: int, tier: str, now: int) -> bool:
    """False (and the task waits) when a phase may not start now: the staged return or the red button.

    - staged return: a recovering tier runs only the phases its stage opens;
    - red button: no mass automatic remediation, so a P2/P3 task's remediation waits
      for the button's release (the human go-ahead); P0/P1 proceed.
    """
    if not k.red_active and not k.staged:
        return True  # neither can hold a phase back
    if not stage_allows(k, task, tier):
        to_degraded(k, task, now, f"staged return, stage {k.stage}: {tier} does not run {k.phase_names[phase]} yet")
        return False
    if k.red_active and k.phase_names[phase] == REMEDIATION and task.severity not in k.p.failover_severities:
        if task.events is not None and (not task.events or task.events[-1][1] != "remediation-waits"):
            task.log(now, "remediation-waits", "red button: no mass automatic remediation; waits for a human go-ahead")
        return False
    return True


def serve_review(k: Keeper, task: Task, now: int) -> None:
    top = k.top
    sev = task.severity
    if top in k.down:
        return
    if k.red_active and sev not in k.p.failover_severities and not task.post_analysis:
        if task.events and task.events[-1][1] != "review-waits":
            task.log(now, "review-waits", f"red button: {top} reserved for P0/P1")
        return
    ti = k.tier_index[top]
    tokens = min(task.review_left, k.cap_left[ti])
    if tokens <= 1e-9 or tokens_left(k, top) < tokens - 1e-6:
        return
    if task.post_analysis and spare_tokens(k, top) < tokens - 1e-6:
        return  # an audit never takes the tokens the tier's planned reviews need (settle_reviews drops it)
    for p in k.order:  # a review spends over the phases as the incident does
        charge(k, p, top, tokens * k.share[p], borrow=True)
    k.cap_left[ti] -= tokens
    task.review_left -= tokens
    if not task.post_analysis:
        k.planned_spent[ti] += tokens
    if task.review_left <= 1e-6:
        task.review = "done"
        if task.post_analysis:
            if task.events is not None:
                task.log(now, "post-analysis", f"{top} re-verified the manual decision")
            return
        task.reviewed = True
        task.escalated = True
        if task.events is not None:
            task.log(now, "review", f"{top} reviews ({'P0' if sev == 'P0' else 'disputed'})")


def _review_finish(k: Keeper, ahead: float, task: Task, now: int) -> float:
    """When the review would finish at the tier's capacity, with ``ahead`` tokens in line before it."""
    cap = k.cap[k.tier_index[k.top]]
    if k.top in k.down or cap <= 0 or tokens_left(k, k.top) < task.review_left - 1e-6:
        return float("inf")
    return now + TICK_SEC * (1 + (ahead + task.review_left) / cap)


def settle_reviews(k: Keeper, now: int) -> None:
    """Resolve tasks whose review is decided; close without escalation those it cannot reach in time."""
    ahead = 0.0
    keep: list[Task] = []
    # the queue is in line order: run_work sorted it, and serving a review never moves one
    for t in k.review_queue:
        if t.review == "queued" and t.post_analysis and spare_tokens(k, k.top) < t.review_left - 1e-6:
            t.review = "dropped"
            t.log(now, "post-analysis", f"{k.top} has no tokens beyond its planned reviews for the post-analysis")
        elif t.review == "queued" and t.work_done_at is not None:
            deadline = t.arrival_sec + k.sla[t.severity]
            finish = _review_finish(k, ahead, t, now)
            if finish > deadline:
                t.review = "dropped"
                wait = now + TICK_SEC - t.review_since
                t.log(
                    now + TICK_SEC,
                    "closed-unescalated",
                    f"{k.top} could not review within the {t.severity} SLA "
                    f"(waited {wait}s, {t.review_left:,.0f} tokens left): closed without escalation",
                )
        if t.review == "queued":
            ahead += t.review_left
            keep.append(t)
            continue
        if t.work_done_at is not None and t.resolved_at is None:
            t.resolved_at = max(t.work_done_at, now + TICK_SEC)
            how = "reviewed" if t.review == "done" else "without its review"
            t.log(t.resolved_at, "resolved", f"pipeline done, {how}")
    k.review_queue = keep


def close_manual(k: Keeper, now: int) -> None:
    """Humans close a manual task ``manual_resolve_min`` after it entered the channel."""
    takes = k.p.manual_resolve_min * 60  # seconds in the channel
    for t in k.active:
        if t.state == "manual" and not t.manual_closed and t.manual_since is not None:
            if now + TICK_SEC - t.manual_since >= takes:
                t.manual_closed = True
                t.resolved_at = t.manual_since + int(takes)
                t.log(t.resolved_at, "resolved", "closed by hand in the manual channel (proof protocol kept)")
                if k.sc.down_tier in k.down or k.sc.recovery != "instant":
                    k.owed.append(t)  # audited when the tier can take it (recovery.resume)
                else:
                    audit(k, t, now)
