"""A task's moves between states: start on a tier, the degraded queue, the manual channel, the audit."""

from __future__ import annotations

from budget.keeper.accounting import charge, pay_rework
from budget.keeper.state import Keeper
from budget.keeper.task import Task


def start(task: Task, now: int, tier: str, reason: str) -> None:
    task.state = "running"
    task.tier = tier
    task.phase_since = now
    if task.events is not None:
        task.log(now, "run", f"{tier}: {reason}")


def to_degraded(k: Keeper, task: Task, now: int, reason: str) -> None:
    if task.state != "degraded":
        task.state = "degraded"
        task.route = "degraded"
        task.degraded_since = now
        if not task.was_degraded:
            task.was_degraded = True
            k.counts["degraded"] += 1
        task.log(now, "degraded", reason)


_MANUAL_COUNT = {kind: f"manual_{kind}" for kind in ("timeout", "guard", "intake")}  # what enters, by way in


def to_manual(k: Keeper, task: Task, now: int, kind: str, reason: str) -> None:
    if task.review == "queued":  # the manual channel decides now; the audit's post-analysis re-verifies it
        task.review = "none"
        task.review_left = 0.0
        k.review_queue.remove(task)
    task.state = "manual"
    task.route = "manual"
    task.manual_since = now
    task.manual_reason = kind
    task.audited = False
    if not task.was_manual:
        task.was_manual = True
        k.counts[_MANUAL_COUNT[kind]] += 1
    task.log(now, "manual", reason)


def audit(k: Keeper, t: Task, now: int) -> None:
    """The PostToolUse audit of a manual decision: pay its rework and run the postmortem."""
    tier = k.tiers[0] if k.tiers[0] not in k.down else k.tiers[-1]  # the cheapest, else the most expensive
    pay_rework(k, t, tier)
    t.audited = True
    if k.pm_index is not None:
        tokens = k.W * k.share[k.pm_index]
        if charge(k, k.pm_index, tier, tokens):
            t.postmortem_done = True
            if t.events is not None:
                t.log(now, "audit", f"PostToolUse audit and postmortem on {tier}")
        elif t.events is not None:
            t.log(now, "audit", f"PostToolUse audit on {tier}; no quota left for the postmortem")
    elif t.events is not None:
        t.log(now, "audit", f"PostToolUse audit on {tier}")
    t.state = "done"
    if (
        k.top != tier
        and k.sc.routing != "close_silently"
        and t.review == "none"
        and t.severity in k.p.post_analysis_severities
    ):
        request_review(k, t, now, post_analysis=True)  # the most expensive tier re-verifies the hand-made decision


def request_review(k: Keeper, task: Task, now: int, post_analysis: bool = False) -> None:
    """Put a job of ``review_share * W`` tokens in the most expensive tier's line: a review or a post-analysis."""
    task.review = "queued"
    task.review_left = k.review_tokens
    task.review_since = now
    task.post_analysis = post_analysis
    k.review_queue.append(task)
