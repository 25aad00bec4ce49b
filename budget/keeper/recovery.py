"""A tier going down and coming back: instant, immediate (fragile, may relapse) or staged return.

- ``instant``: the tier comes back healthy and takes everything.
- ``immediate``: for ``warmup_min`` after it returns the tier is fragile; more than
  ``warmup_capacity`` starts in one minute make it fail again for ``relapse_min``.
- ``staged`` (the chapter's staged return): stage 1 gives 30 % of ``warmup_capacity``
  to triage and classification only; stage 2 (60 %) opens diagnosis and plan after
  three stable token_health windows, and the PostToolUse audits of the manual
  channel's decisions run; stage 3, the full return, follows the audits.
"""

from __future__ import annotations

from budget.keeper.accounting import pay_rework
from budget.keeper.moves import audit, start, to_degraded
from budget.keeper.state import HEALTH_STEP, Keeper
from budget.keeper.task import Task, clock
from budget.model import SEVERITIES

# phases a recovering tier may run in stage 1 and 2: triage/classification, then diagnosis/plan too
STAGE_PHASES = (2, 4)


def stage_capacity(k: Keeper, tier: str) -> tuple[int | None, int]:
    """(tasks the tier may start this minute or None for no limit, phases allowed: index bound)."""
    n_phases = len(k.order)
    if k.sc.recovery == "staged" and tier in k.recovered_at and k.stage in (1, 2):
        share = k.p.stage_shares[k.stage - 1]
        allowed = min(STAGE_PHASES[k.stage - 1], n_phases)
        return max(1, int(share * k.p.warmup_capacity)), allowed
    return None, n_phases


def stage_allows(k: Keeper, task: Task, tier: str) -> bool:
    """Whether the staged return lets ``tier`` work on the task's current phase now."""
    return task.phase < stage_capacity(k, tier)[1]


def can_start(k: Keeper, task: Task, tier: str) -> bool:
    cap, allowed = stage_capacity(k, tier)
    if task.phase >= allowed:
        return False
    return cap is None or k.starts.get(tier, 0) < cap


def go_down(k: Keeper, tier: str, now: int) -> None:
    k.down.add(tier)
    k.eligible = {t: 0.0 for t in k.tiers}
    for t in k.active:
        if t.state == "running" and k.needed_tier(t) == tier:
            t.state = "pending"
            t.log(now, "interrupted", f"{tier} went down")


def recover(k: Keeper, tier: str, now: int, minute: int) -> None:
    k.down.discard(tier)
    k.recovered_at[tier] = minute
    if k.first_recovery is None:
        k.first_recovery = minute
    for t in k.active:
        if t.state == "pending" and k.needed_tier(t) == tier:
            to_degraded(k, t, now, f"waited for {tier} through the outage")
    if k.sc.recovery == "staged" and tier == k.tiers[0]:  # the cheapest
        set_stage(k, 1, now, f"{tier} back: {k.p.stage_shares[0]:.0%} of its capacity, first phases only")


def set_stage(k: Keeper, stage: int, now: int, reason: str) -> None:
    k.stage = stage
    k.stage_since = len(k.window_health)
    k.stage_events.append({"time": clock(now), "stage": stage, "reason": reason})


def resume(k: Keeper, now: int, minute: int) -> None:
    """Waiting work goes back to a tier that is up, within the tier's capacity, most urgent first."""
    waiting = [t for t in k.active if t.state == "degraded" and not t.quota_stalled and k.needed_tier(t) not in k.down]
    waiting.sort(key=lambda t: (SEVERITIES.index(t.severity), -t.inc.blast_radius, t.arrival_sec))
    for t in waiting:
        tier = k.needed_tier(t)
        if not can_start(k, t, tier):
            continue
        pay_rework(k, t, tier)
        k.starts[tier] = k.starts.get(tier, 0) + 1
        start(t, now, tier, f"resumes on {tier}" + (f" (stage {k.stage})" if k.stage in (1, 2) else ""))
    cheap = k.tiers[0]  # the cheapest
    if k.owed and cheap not in k.down and not (k.sc.recovery == "staged" and k.stage == 1):
        for t in k.owed:
            if t.manual_closed and not t.audited:
                cap, _ = stage_capacity(k, cheap)
                if cap is not None and k.starts.get(cheap, 0) >= cap:
                    break
                k.starts[cheap] = k.starts.get(cheap, 0) + 1
                audit(k, t, now)
        k.owed = [t for t in k.owed if not t.audited]


def after_minute(k: Keeper, now: int, minute: int) -> None:
    """Relapse of a flooded fragile tier (immediate return) and staged-return transitions."""
    if k.sc.recovery == "immediate" and not k.relapses:
        for tier, started in k.starts.items():
            since = k.recovered_at.get(tier)
            if since is not None and minute - since < k.p.warmup_min and started > k.p.warmup_capacity:
                k.outages.append((minute + 1, minute + 1 + k.p.relapse_min, tier))
                k.relapses.append(
                    {
                        "time": clock(now),
                        "tier": tier,
                        "reason": f"{started} tasks in one minute on a tier back for {minute - since} min "
                        f"(it takes {k.p.warmup_capacity}): down again for {k.p.relapse_min} min",
                    }
                )
                break
    if k.sc.recovery == "staged" and k.stage in (1, 2) and len(k.window_health) > k.stage_since:
        w = k.window_health
        since = len(w) - k.stage_since
        if k.stage == 1 and since >= 3:
            stable = w[-1] >= w[-2] - HEALTH_STEP and w[-2] >= w[-3] - HEALTH_STEP
            silent_flat = len(k.silent_hist) < 3 or k.silent_hist[-1] <= k.silent_hist[-3]
            # the queue that counts is the work stage 1 can take: tasks parked at its phase bound are done for now
            waiting = sum(
                1
                for t in k.active
                if t.state in ("pending", "degraded") and t.phase < STAGE_PHASES[0] and not t.quota_stalled
            )
            if stable and silent_flat and waiting <= k.p.queue_limit:
                set_stage(
                    k,
                    2,
                    now,
                    f"three stable token_health windows, no growth of silent P0, queue {waiting}: "
                    f"{k.p.stage_shares[1]:.0%} of capacity, diagnosis and plan open, PostToolUse audits run",
                )
        elif k.stage == 2 and since >= 1 and not k.owed:
            set_stage(k, 3, now, "PostToolUse audits done: full return")


def second_dip(k: Keeper, first: int) -> float:
    """Deepest fall of token_health from its running peak after the first recovery (0: no second dip)."""
    if k.first_recovery is None:
        return 0.0
    begin = k.first_recovery - first
    peak, dip = 0.0, 0.0
    for h in k.health_hist[begin:]:
        peak = max(peak, h)
        dip = max(dip, peak - h)
    return dip
