"""token_health = h_frontier x h_backlog, and the once-a-tick scan that feeds it (docs/model.md)."""

from __future__ import annotations

from budget.keeper.accounting import plan_need, tokens_left
from budget.keeper.state import Keeper
from budget.keeper.task import Task


def scan(k: Keeper, now: int) -> None:
    """One pass over the open tasks: accrue rework while a tier is down, count queues and owed tokens, drop
    the tasks that are done or closed by hand from ``active``, and note the first open P0/P1 past its SLA
    (for the red button, :func:`budget.keeper.redbutton.conditions`)."""
    p = k.p
    down = bool(k.down)
    rate = p.rework_per_min * k.W
    cap = p.rework_cap_share * k.W
    weight = p.risk_weight
    pending = degraded = manual = running = failover = 0  # open tasks by state (failover: running on a failover)
    by_phase = dict.fromkeys(k.phase_names, 0)
    owed = 0.0
    any_waiting = False
    n_order = len(k.order)
    keep: list[Task] = []  # the tasks still open after this tick, in their order
    breach: str | None = None
    for t in k.active:
        st = t.state
        if st == "manual" and t.manual_closed:
            continue
        if down and (st == "degraded" or (st == "manual" and not t.audited)):
            t.wait_min += 1
            w = weight[t.severity]
            t.rework_owed = min(t.rework_owed + rate * w, cap * w)
            any_waiting = True
        owed += t.rework_owed
        if st == "running":
            if t.failover:
                failover += 1
            else:
                running += 1
        elif st == "pending":
            pending += 1
        elif st == "degraded":
            degraded += 1
        elif st == "manual":
            manual += 1
        if (st == "pending" or st == "degraded") and t.phase < n_order:
            by_phase[k.phase_names[k.order[t.phase]]] += 1
        if st != "done":
            keep.append(t)
            sev = t.severity
            if breach is None and (sev == "P0" or sev == "P1") and t.resolved_at is None and not t.manual_closed:
                if now - t.arrival_sec > k.sla[sev]:
                    breach = f"SLA breach for {sev} ({t.inc.id})"
    k.active = keep
    k.snap_breach = breach
    for t in k.owed:
        if t.manual_closed and t.state != "done":
            if down:
                t.wait_min += 1
                w = weight[t.severity]
                t.rework_owed = min(t.rework_owed + rate * w, cap * w)
                any_waiting = True
            owed += t.rework_owed
    if any_waiting:
        k.degraded_minutes += 1
    k.snap_states = dict(pending=pending, degraded=degraded, manual=manual, running=running, failover=failover)
    k.snap_phase = by_phase
    k.snap_owed = owed
    k.snap_open = pending + degraded + manual


def compute_health(k: Keeper) -> float:
    """token_health = h_frontier x h_plan x h_backlog (docs/model.md)."""
    h_f = 1.0
    for t in k.tiers[1:]:
        q = k.quota_total[t]
        if q <= 0 or t in k.down:
            continue
        committed = k.unplanned[t]
        # during an outage the keeper earmarks what the eligible tasks need, up to the allowance
        earmark = min(k.allowance[t], k.eligible[t]) if k.down else 0.0
        exposure = max(committed, earmark)
        first = 1.0 - exposure / (q + k.reserve_total)
        beyond = max(0.0, exposure - k.spare[t])  # failover that displaces the tier's planned work
        second = 1.0 - beyond / max(k.demand[t], 1.0)
        h_f = min(h_f, max(0.0, first) * max(0.0, second))
    # h_plan: the least covered tier. A tier's coverage is min(1, left / need): 1 while what it has left
    # pays for the rest of its planned day and the failover it committed to, 0 when it is dry with work
    # still planned.
    h_p = 1.0
    for t in k.tiers:
        if k.quota_total[t] <= 0:
            continue
        need = plan_need(k, t)
        c = 1.0 if need <= 0 else min(1.0, tokens_left(k, t) / need)
        if c < h_p:  # every coverage is at most 1: the minimum, 1 when no tier has a quota
            h_p = c
    h_b = k.absorb / (k.absorb + k.snap_owed)
    k.h_parts = (h_f, h_p, h_b)
    return min(1.0, max(0.0, h_f * h_p * h_b))
