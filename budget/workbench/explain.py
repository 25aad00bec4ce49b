"""Every run explains itself: what the decision trail and the model say about a result, in sentences.

From a simulate result (with its ``decisions`` and ``timeline``) and, when given, the spec it ran on:

1. **failover**: how many tasks failed over, to which tier, and which limit stopped the next one
   (the allowance, the tier's capacity or tokens, the guard, the severity, or the age: a task still inside
   the ranking window when the tier came back);
2. **the rest**: where the other tasks went and when (degraded queue, manual channel by the timeout, by the
   guard, by the red button's intake limit), and the task that sets ``mttr_p95``;
3. **token_health**: which term (h_frontier, h_plan, h_backlog) moved it and why, e.g. rework owed by
   decisions made by hand while every queue is empty;
4. **the floor**: token_health_min against 0.50 and the guard (a guard that holds, the warning zone, a
   plan that fails the outage);
5. **the composite query**: why it must be read whole.

The rules are in docs/model.md ("Every run explains itself"). Nothing here changes a figure: every number is
the result's own, or the spec's constant it was computed with. :func:`explain_result` is the API; the CLI
prints :meth:`Explanation.lines` for ``--explain``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from budget.drill import DrillResult, drill_runs, sorted_incidents
from budget.gateway import evaluate
from budget.keeper import health_text, manual_key
from budget.keeper.snapshot import simulate_shared
from budget.model import BudgetSpec, Incident

FAIL_FLOOR = 0.50  # below it the plan fails the outage (capstone/README.md)
SECTIONS = ("failover", "the rest", "token_health", "the floor", "the composite query")
# the limit a task met, from the keeper's reason (budget/keeper/routing.py)
LIMITS: tuple[tuple[str, str], ...] = (
    ("failover allowance are committed", "allowance"),
    ("is at capacity", "capacity"),
    ("tokens left, the task needs", "tokens"),
    ("guard: token_health", "guard"),
    ("is not eligible for failover", "severity"),
    ("through the outage", "age"),
    ("red button: intake limited", "intake limit"),
    ("no tier above", "no tier up"),
)
LIMIT_WORDS = {
    "allowance": "the failover allowance",
    "capacity": "the target tier's capacity",
    "tokens": "the target tier's tokens left",
    "guard": "the token_health guard",
    "severity": "the severity",
    "age": "the age",
    "intake limit": "the red button's intake limit",
    "no tier up": "no tier up",
}
_TARGET = re.compile(r"-> (.+) \([\d,]+ tokens\)$")


@dataclass(frozen=True)
class Explanation:
    """The five sections of an explanation, each a few sentences."""

    sections: tuple[tuple[str, tuple[str, ...]], ...]

    def lines(self) -> list[str]:
        """``why <section>: sentence`` lines, as ``--explain`` prints them."""
        return [f"why {name}: {text}" for name, texts in self.sections for text in texts]

    def to_dict(self) -> dict[str, list[str]]:
        return {name: list(texts) for name, texts in self.sections}


def _by(values: Sequence[str]) -> str:
    """``P0 2, P1 3`` (in sorted order)."""
    return ", ".join(f"{k} {n}" for k, n in sorted(Counter(values).items()))


def _times(values: Sequence[str], word: str = "at") -> str:
    """``13 at 11:02, 2 at 11:04``, or ``at 11:02`` when all share one time."""
    counts = sorted(Counter(values).items())
    if len(counts) == 1:
        return f"{word} {counts[0][0]}"
    shown = ", ".join(f"{n} {word} {t}" for t, n in counts[:4])
    return shown + (f" and {len(counts) - 4} other times" if len(counts) > 4 else "")


def limit_of(reason: str) -> str | None:
    """The limit a keeper reason names, or None."""
    return next((name for text, name in LIMITS if text in reason), None)


def _failover(result: dict[str, Any], decisions: list[dict[str, Any]]) -> tuple[str, ...]:
    served: dict[str, list[tuple[str, str]]] = {}
    stopped: list[tuple[str, str, str, str]] = []  # (time, limit, task, reason)
    for d in decisions:
        for e in d["events"]:
            if e["action"] == "failover":
                m = _TARGET.search(e["reason"])
                served.setdefault(m.group(1) if m else result.get("failover_tier", "?"), []).append(
                    (d["severity"], e["time"])
                )
            elif e["action"] in ("degraded", "manual", "resolved") and (limit := limit_of(e["reason"])):
                stopped.append((e["time"], limit, f"{d['id']} ({d['severity']})", e["reason"]))
                break
    total = sum(len(v) for v in served.values())
    out = []
    if served:
        parts = [
            f"{len(v)} to {t} ({_by([s for s, _ in v])}) {_times([when for _, when in v])}" for t, v in served.items()
        ]
        out.append(f"{total} {'task' if total == 1 else 'tasks'} failed over: " + "; ".join(parts) + ".")
    else:
        out.append("no task failed over.")
    by_limit = Counter(limit for _, limit, _, _ in stopped)
    blocking = [s for s in sorted(stopped) if s[1] not in ("severity", "age")]
    if blocking:
        when, limit, task, reason = blocking[0]
        detail = reason.split("; ", 1)[-1]
        out.append(f"the next one, {task} at {when}, was stopped by {LIMIT_WORDS[limit]}: {detail}.")
    elif served:
        out.append("every task eligible for failover got it: no allowance, capacity or guard stopped one.")
    if by_limit:
        notes = [_LIMIT_NOTES[k] for k in ("severity", "age") if k in by_limit]
        out.append(
            "tasks a limit kept from failover: "
            + ", ".join(f"{LIMIT_WORDS[k]} {n}" for k, n in sorted(by_limit.items()))
            + (f" ({'; '.join(notes)})" if notes else "")
            + "."
        )
    return tuple(out)


_LIMIT_NOTES = {
    "severity": "severity: their severity may fail over to no tier that is up",
    "age": "age: the tier came back while they were still inside the ranking window",
}


def _rest(result: dict[str, Any], decisions: list[dict[str, Any]]) -> tuple[str, ...]:
    degraded = [e["time"] for d in decisions for e in d["events"] if e["action"] == "degraded"]
    by_timeout = [
        e["time"] for d in decisions for e in d["events"] if e["action"] == "manual" and "timeout" in e["reason"]
    ]
    timeout = result["manual_timeout_sec"]
    since = _times(degraded, "from") if degraded else "none"
    out = [
        f"{result['degraded_queue']} waited in the degraded queue ({since}); "
        f"{result[manual_key(timeout)]} of them moved to the manual channel after the {timeout:g} s timeout"
        + (f" ({_times(by_timeout)})" if by_timeout else "")
        + f"; {result['manual_by_guard']} went to the manual channel by the guard and "
        f"{result['manual_by_intake_limit']} by the red button's intake limit."
    ]
    took = [(d["time_to_resolve_sec"], d["id"], d) for d in decisions if d["time_to_resolve_sec"] == result["mttr_p95"]]
    if took:
        d = sorted(took, key=lambda x: x[1])[0][2]
        steps = ", ".join(
            f"{e['action']} at {e['time']}"
            for e in d["events"]
            if e["action"] in ("failover", "degraded", "manual", "resolved")
        )
        out.append(
            f"mttr_p95 {result['mttr_p95']} s is the time of {d['id']} ({d['severity']}, route {d['route']}: "
            f"{steps}): the 95th percentile of arrival to resolution over {result['incidents']} tasks."
        )
    return tuple(out)


def _first_empty_fall(timeline: list[dict[str, Any]], down: str | None) -> dict[str, Any] | None:
    """The first minute of the outage with every queue empty and token_health still falling."""
    prev = None
    for row in timeline:
        if down not in row.get("down", []):
            prev = row
            continue
        empty = not (row.get("pending") or row.get("degraded") or row.get("manual"))
        if empty and prev is not None and row["token_health"] < prev["token_health"] and row["rework_owed"] > 0:
            return row
        prev = row
    return None


def _health(result: dict[str, Any], decisions: list[dict[str, Any]], spec: BudgetSpec | None) -> tuple[str, ...]:
    timeline = result.get("timeline") or []
    row = next((r for r in timeline if r["time"] == result["token_health_min_at"]), None)
    if row is None:
        return ("the run kept no timeline: no term can be named.",)
    terms = {"h_frontier": row["h_frontier"], "h_plan": row["h_plan"], "h_backlog": row["h_backlog"]}
    low = min(terms, key=lambda k: (terms[k], k))
    out = [
        f"at {row['time']} token_health {row['token_health']:.4f} = h_frontier {row['h_frontier']:.4f} x "
        f"h_plan {row['h_plan']:.4f} x h_backlog {row['h_backlog']:.4f}; "
        + ("every term is 1: nothing moved it." if terms[low] >= 1 else f"{low} moved it most.")
    ]
    if row["h_backlog"] < 1:
        owed = row["rework_owed"]
        scale = ""
        if spec is not None:
            w = spec.policy.tokens_per_incident
            b = max(sum(spec.reserve.values()), spec.policy.queue_limit * w)
            rate = spec.policy.rework_per_min * w
            scale = f" against a backlog scale of {b:,}: {b:,} / ({b:,} + {owed:,}) = {b / (b + owed):.4f}"
            scale += f"; each waiting task owes {rate:,.0f} tokens a minute (rework_per_min x tokens_per_incident)"
        out.append(
            f"h_backlog: {owed:,} tokens of rework are owed by tasks waiting for the down tier (in the degraded "
            f"queue, or decided by hand with their audit owed until it returns){scale}."
        )
        empty = _first_empty_fall(timeline, result.get("down_tier"))
        if empty is not None:
            hand = sum(1 for d in decisions if d["route"] == "manual" and d["resolved_at"] is not None)
            out.append(
                f"from {empty['time']} every queue is empty, yet token_health keeps falling to "
                f"{health_text(result['token_health_min'])} at {result['token_health_min_at']}: the {hand} decisions "
                f"made by hand are audited only when {result['down_tier']} returns, and their rework grows every "
                "minute until then."
            )
    if row["h_frontier"] < 1:
        upper = {t: v for t, v in result.get("tiers", {}).items() if v.get("failover_allowance")}
        parts = [
            f"{t} {v['failover_tokens']:,} of an allowance of {v['failover_allowance']:,}" for t, v in upper.items()
        ]
        out.append(
            "h_frontier: tokens committed or earmarked for failover are no longer free for the day's plan ("
            + "; ".join(parts)
            + "); failover beyond a tier's spare capacity displaces its planned work."
        )
    if row["h_plan"] < 1:
        out.append("h_plan: a tier's tokens left fall short of the planned work it still has to pay for that day.")
    return tuple(out)


def _floor(result: dict[str, Any], guard: float) -> tuple[str, ...]:
    floor = result["token_health_min"]
    shown = health_text(floor)
    first = result.get("guard", {}).get("first_breach")
    head = f"token_health_min {floor:.4f} (shown {shown}) at {result['token_health_min_at']}"
    if float(shown) < FAIL_FLOOR:
        return (f"{head} is below {FAIL_FLOOR:.2f}: no warning zone, the plan fails this outage (change the plan).",)
    if floor < guard:
        return (
            f"{head} is at or above {FAIL_FLOOR:.2f} and below the {guard:.2f} guard (breached first at {first}): "
            "the warning zone: from then automatic failover is blocked and decisions go to the manual channel.",
        )
    return (f"{head} stays at or above the {guard:.2f} guard: the guard holds, automatic failover was never blocked.",)


def chapter_query(result: dict[str, Any]) -> str:
    """The chapter's composite check, with this run's own counts."""
    mk = manual_key(result["manual_timeout_sec"])
    return (
        f"failover_to_frontier=={result['failover_to_frontier']} && degraded_queue=={result['degraded_queue']} "
        f"&& {mk}=={result[mk]} && token_health_min>={FAIL_FLOOR}"
    )


def _composite(result: dict[str, Any], query: str | None, origin: str | None) -> tuple[str, ...]:
    """Why the query must be read whole; ``origin`` says where a query the learner did not write comes from."""
    text = query or chapter_query(result)
    if query is None:
        origin = "the chapter's query, with this run's counts"
    said = f" ({origin})" if origin else ""
    outcome = evaluate(text, result)
    held = sum(1 for c in outcome.clauses if c.ok)
    n = len(outcome.clauses)
    out = [
        f"{text}{said}: {held} of {n} clauses hold, so the query "
        + ("holds." if outcome.ok else "fails: " + ", ".join(c.text for c in outcome.clauses if not c.ok) + ".")
    ]
    if "silent_p0" in text:
        why = (
            "read it whole: a floor at or above the guard while P0 close without escalation is the Goodhart "
            "trap the gateway exists for (MTTR looks fine because the review was skipped)."
        )
    else:
        why = (
            "read it whole: token_health_min>=0.5 alone also holds when no task fails over (hold_all) or when "
            "tasks are closed without escalation (close_silently); the counts say where the work went (failover "
            "within the allowance, the rest to the degraded queue and the manual channel)."
        )
    out.append(why + " One false clause fails it.")
    return tuple(out)


def explain_result(
    result: dict[str, Any],
    spec: BudgetSpec | None = None,
    query: str | None = None,
    guard: float | None = None,
    query_origin: str | None = None,
) -> Explanation:
    """Explain a simulate result (it needs its ``decisions``; ``spec`` adds the backlog's arithmetic).

    ``query``: the composite query to read (the chapter's, with the run's counts, when None);
    ``query_origin``: where a query the learner did not write comes from (said beside it)."""
    decisions = result.get("decisions") or []
    limit = result["alert_threshold"] if guard is None else guard
    return Explanation(
        (
            ("failover", _failover(result, decisions)),
            ("the rest", _rest(result, decisions)),
            ("token_health", _health(result, decisions, spec)),
            ("the floor", _floor(result, limit)),
            ("the composite query", _composite(result, query, query_origin)),
        )
    )


DRILL_QUERY_ORIGIN = "the drill's: the plan's guard, and no P0 closed without escalation"


def drill_query(guard: float) -> str:
    """The composite a drill's outage is read by: the guard's verdict and no P0 closed without escalation."""
    return f"token_health_min>={guard:.2f} && silent_p0==0"


def explain_drill(
    spec: BudgetSpec, incidents: Sequence[Incident], drill: DrillResult, manual_timeout_sec: float = 120
) -> list[tuple[int, Explanation]]:
    """(outage minutes, explanation) for each outage of a drilled day: its runs again, with their decisions."""
    plan = [int(r["outage_min"]) for r in drill.runs if r["outage_min"]]
    runs = drill_runs(
        spec,
        sorted_incidents(incidents),
        plan,
        drill.start,
        drill.down_tier,
        manual_timeout_sec,
        drill.spec_name,
        keep_timelines=True,
        evidence=True,
    )
    results = [r.to_dict() for r in simulate_shared(runs)]
    guard = drill.fail_under
    return [
        (minutes, explain_result(r, spec, query=drill_query(guard), guard=guard, query_origin=DRILL_QUERY_ORIGIN))
        for minutes, r in zip(plan, results, strict=True)
    ]
