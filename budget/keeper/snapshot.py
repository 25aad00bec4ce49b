"""Sharing the stretch of a day that several runs have in common.

A drill replays one day once per outage, and a sweep replays it once per
outage and variant. Every one of those runs is the same run until its outage
starts: same arrivals, same work, same ledgers. :func:`fork` takes a keeper that
ran a scenario without an outage up to some minute and returns an independent
copy that runs on as another scenario, provided nothing the two scenarios
differ in has acted yet (:func:`why_not_shared` says what would break that):

- the outage (``down_tier``, ``duration_min``): it must not have started;
- the manual timeout: it acts only on a task in the degraded queue, so it may
  differ only if no task has waited there yet;
- the guard (``policy.alert_threshold``): before an outage it acts on no task
  (it blocks failover, and failover needs a tier that is down); the only thing
  it changed is the record of when token_health fell below it, which is
  rebuilt from the token_health history for the new guard.

The copy then gives byte for byte the result of the scenario simulated from
the start (``tests/test_snapshot.py`` holds both to it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from budget.keeper.result import SimResult
from budget.keeper.simulate import advance, finish, note_guard, span, start_run
from budget.keeper.state import Keeper
from budget.model import BudgetSpec, Scenario

_OUTAGE_FIELDS = ("down_tier", "duration_min")


def why_not_shared(k: Keeper, scenario: Scenario, spec: BudgetSpec | None = None) -> str | None:
    """Why ``k`` cannot run on as ``scenario`` (with ``spec``), or None when it can."""
    if k.sc.has_outage:
        return "the shared run has an outage of its own"
    if span(spec or k.spec, scenario) != (k.first, k.last):
        return "the runs span different minutes"
    if scenario.has_outage and k.first + k.tick > scenario.start_min:
        return "the outage would have started already"
    if scenario.manual_timeout_sec != k.sc.manual_timeout_sec and k.counts["degraded"]:
        return "a task has waited in the degraded queue, so the manual timeout has acted"
    same = {f: getattr(scenario, f) for f in (*_OUTAGE_FIELDS, "manual_timeout_sec")}
    if k.sc.model_copy(update=same) != scenario:
        return "the scenarios differ in more than the outage and the manual timeout"
    if spec is not None and spec is not k.spec:
        policy = spec.policy.model_copy(update={"alert_threshold": k.p.alert_threshold})
        if spec.model_copy(update={"policy": policy}) != k.spec:
            return "the plans differ in more than the guard"
    return None


def fork(
    k: Keeper,
    scenario: Scenario,
    spec: BudgetSpec | None = None,
    include_decisions: bool | None = None,
    include_timeline: bool | None = None,
    copy: bool = True,
) -> Keeper:
    """A copy of ``k`` that runs on as ``scenario`` (and ``spec``); ``k`` itself is left as it was.

    With ``copy=False`` the keeper itself is turned into the new run (for the last of a batch).

    ``include_decisions`` and ``include_timeline`` may drop what the shared run
    kept (never add what it did not keep). Raises ValueError when the runs are
    not the same so far (:func:`why_not_shared`).
    """
    why = why_not_shared(k, scenario, spec)
    if why is not None:
        raise ValueError(f"cannot share the run so far: {why}")
    decisions = k.include_decisions if include_decisions is None else include_decisions
    timeline = k.include_timeline if include_timeline is None else include_timeline
    if (decisions and not k.include_decisions) or (timeline and not k.include_timeline):
        raise ValueError("cannot share the run so far: it kept no decisions log or timeline")
    twin = k.clone() if copy else k
    twin.sc = scenario
    if spec is not None and spec is not k.spec:
        _set_guard(twin, spec)
    if scenario.has_outage and scenario.down_tier is not None:
        start = scenario.start_min
        twin.outages.append((start, start + int(scenario.duration_min or 0), scenario.down_tier))
    if not decisions and twin.include_decisions:
        twin.include_decisions = False
        settled = twin.settled()  # shared with the runs forked before: each gets its own copy without the log
        for i, t in enumerate(twin.tasks):
            if id(t) in settled:
                t = twin.tasks[i] = t.clone()
            t.events = None
    if not timeline:
        twin.include_timeline = False
        twin.timeline = []
    return twin


def _set_guard(k: Keeper, spec: BudgetSpec) -> None:
    """Make ``k`` run on with ``spec`` (its plan but for the guard): the record of when token_health fell
    below the guard is rebuilt from the token_health history for the new guard."""
    k.spec, k.p = spec, spec.policy
    k.guard_breaches, k.guard_below = [], False
    for i, h in enumerate(k.health_hist):
        note_guard(k, h, (k.first + i) * 60, k.p.alert_threshold)


def only_guard_differs(a: BudgetSpec, b: BudgetSpec) -> bool:
    """Whether the two plans are the same but for the guard (``policy.alert_threshold``)."""
    if a is b:
        return True
    policy = b.policy.model_copy(update={"alert_threshold": a.policy.alert_threshold})
    return b.model_copy(update={"policy": policy}) == a


def guard_may_act(k: Keeper, guard: float) -> bool:
    """Whether, in the tick ``k`` runs next, ``guard`` could route a task otherwise than ``k``'s own guard.

    The guard acts in one place: ranked failover of a task waiting for a tier that is down is blocked while
    token_health (the last tick's) is below it. Two guards decide alike while token_health is above both or
    below both; with a decisions log, the log names the guard, so below either is a difference. No tier
    down and none going down this minute: the guard decides nothing.
    """
    lo, hi = sorted((k.p.alert_threshold, guard))
    if lo == hi or k.health >= hi or (k.health < lo and not k.include_decisions):
        return False
    minute = k.first + k.tick
    return bool(k.down) or any(down_from == minute for down_from, _, _ in k.outages)


def advance_together(lead: Keeper, others: Sequence[BudgetSpec]) -> list[Keeper]:
    """Run ``lead`` to its end, and with it the runs of ``others`` (its plan but for the guard) for as long
    as their guard decides as the lead's does (:func:`guard_may_act`); each goes its own way (a copy of
    the lead at that tick) from the first tick where it might not. Returns the keepers of ``others`` at
    their end, in order; none of them is ``lead``."""
    ends: list[Keeper | None] = [None] * len(others)
    following = list(range(len(others)))
    total = max(1, lead.last - lead.first)
    while following and lead.tick < total:
        for i in [i for i in following if guard_may_act(lead, others[i].policy.alert_threshold)]:
            twin = _with_guard(lead, others[i])
            advance(twin)
            ends[i] = twin
            following.remove(i)
        if following:
            advance(lead, until_minute=lead.first + lead.tick + 1)
    advance(lead)
    for i in following:
        ends[i] = _with_guard(lead, others[i])
    return [k for k in ends if k is not None]


def _with_guard(k: Keeper, spec: BudgetSpec) -> Keeper:
    """A copy of ``k`` running on with ``spec`` (its plan but for the guard)."""
    twin = k.clone()
    _set_guard(twin, spec)
    return twin


@dataclass(frozen=True)
class Run:
    """One run of a batch: its plan, its scenario and what its result keeps."""

    spec: BudgetSpec
    scenario: Scenario
    include_decisions: bool = True
    include_timeline: bool = True


def simulate_shared(runs: Sequence[Run], progress: Callable[[float], None] | None = None) -> list[SimResult]:
    """Each run's result, exactly as :func:`budget.keeper.simulate` gives it, sharing what the runs have in common.

    The first run not done yet leads: its scenario without the outage is
    simulated up to the earliest outage start among the runs left, and every
    run that can share that stretch (:func:`why_not_shared`) forks from it, those that
    differ only in the guard as one run for as long as they can (:func:`advance_together`). The
    runs that cannot (another manual timeout after a task waited) get their own
    shared stretch in the next round. ``progress`` is called with the share of runs done.
    """
    results: list[SimResult | None] = [None] * len(runs)
    pending = list(range(len(runs)))
    while pending:
        lead = runs[pending[0]]
        trunk = start_run(
            lead.spec,
            lead.scenario.model_copy(update=dict.fromkeys(_OUTAGE_FIELDS)),
            include_decisions=any(runs[i].include_decisions for i in pending),
            include_timeline=any(runs[i].include_timeline for i in pending),
        )
        starts = [runs[i].scenario.start_min for i in pending if runs[i].scenario.has_outage]
        advance(trunk, until_minute=min(starts) if starts else None)
        sharing = [i for i in pending if why_not_shared(trunk, runs[i].scenario, runs[i].spec) is None]
        groups = _guard_groups(runs, sharing)
        for n, group in enumerate(groups):
            r = runs[group[0]]
            k = fork(trunk, r.scenario, r.spec, r.include_decisions, r.include_timeline, copy=n < len(groups) - 1)
            ends = advance_together(k, [runs[i].spec for i in group[1:]])
            for i, end in zip(group, [k, *ends], strict=True):
                results[i] = finish(end)
            if progress is not None:
                progress(sum(r is not None for r in results) / len(runs))
        pending = [i for i in pending if results[i] is None]
    return [r for r in results if r is not None]


def _guard_groups(runs: Sequence[Run], indices: Sequence[int]) -> list[list[int]]:
    """The runs that differ only in the guard (same scenario, same plan but for the guard, same detail kept),
    in groups that run together (:func:`advance_together`), in the order of their first run."""
    groups: list[list[int]] = []
    for i in indices:
        r = runs[i]
        for group in groups:
            g = runs[group[0]]
            same = (g.scenario, g.include_decisions, g.include_timeline) == (
                r.scenario,
                r.include_decisions,
                r.include_timeline,
            )
            if same and only_guard_differs(g.spec, r.spec):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
