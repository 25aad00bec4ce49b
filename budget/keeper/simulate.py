"""The tick loop: :func:`simulate` runs the keeper minute by minute over a scenario."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from budget.errors import BudgetError
from budget.keeper import health, recovery, work
from budget.keeper import routing as routes
from budget.keeper.accounting import forecast
from budget.keeper.moves import to_manual
from budget.keeper.redbutton import red_button
from budget.keeper.result import SimResult, build_result, timeline_row
from budget.keeper.state import Keeper
from budget.keeper.task import Task, clock, num
from budget.keeper.workload import disputed_flags, needs_review
from budget.model import ROUTING_POLICIES, BudgetSpec, Incident, Scenario

# ticks this process has simulated, every run counted: a statistic (tests/test_snapshot.py counts the ticks runs share)
ticks_simulated = 0


def span(spec: BudgetSpec, scenario: Scenario) -> tuple[int, int]:
    """First and last minute simulated: the whole day (a drill) or the scenario's window plus the drain."""
    p = spec.policy
    incidents = scenario.incidents
    if scenario.horizon == "day":
        return 0, 1440 + p.drain_min
    out_start = scenario.start_min if scenario.has_outage else None
    out_end = out_start + int(scenario.duration_min or 0) if out_start is not None else None
    marks = [m for m in (out_start,) if m is not None] + [i.arrival_sec // 60 for i in incidents[:1]]
    first = min(marks) if marks else scenario.start_min
    last_arrival = incidents[-1].arrival_sec // 60 if incidents else first
    return first, max(out_end or first, last_arrival + 1) + p.drain_min


def _manual_timeouts(k: Keeper, now: int) -> None:
    """A task that waited ``manual_timeout_sec`` in the degraded queue moves to the manual channel."""
    timeout = k.sc.manual_timeout_sec
    for t in k.active:
        if t.state == "degraded" and t.degraded_since is not None and now - t.degraded_since >= timeout:
            waited = now - t.degraded_since
            why = f"waited {waited}s in the degraded queue (timeout {num(timeout)}s)" if t.events is not None else ""
            to_manual(k, t, now, "timeout", why)


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
    ``hold_all``, ``close_silently``). ``progress`` is called with 0..1 as the ticks go by.
    """
    k = start_run(spec, scenario, routing, include_decisions, include_timeline)
    advance(k, progress=progress)
    return finish(k)


def start_run(
    spec: BudgetSpec,
    scenario: Scenario,
    routing: str | None = None,
    include_decisions: bool = True,
    include_timeline: bool = True,
) -> Keeper:
    """A keeper at the first tick of ``scenario``: run it with :func:`advance`, read it with :func:`finish`."""
    if routing is not None:
        if routing not in ROUTING_POLICIES:
            raise BudgetError(f"unknown routing policy {routing!r} (use {', '.join(ROUTING_POLICIES)})")
        scenario = scenario.model_copy(update={"routing": routing})
    if scenario.down_tier is not None and scenario.down_tier not in spec.tiers:
        raise BudgetError(
            f"{scenario.source}: down_tier: unknown tier {scenario.down_tier!r} "
            f"(the plan's tiers: {', '.join(spec.tiers)})"
        )
    k = Keeper(spec, scenario, spec.policy)
    k.first, k.last = span(spec, scenario)
    k.include_decisions, k.include_timeline = include_decisions, include_timeline
    disputed = disputed_flags(scenario.incidents, spec.policy)
    ranks, k.ranks_distinct = arrival_ranks(scenario.incidents)
    k.tasks = [
        Task(i, needs_review(i, d), r, include_decisions)
        for i, d, r in zip(scenario.incidents, disputed, ranks, strict=True)
    ]
    if scenario.has_outage and scenario.down_tier is not None:
        k.outages.append((scenario.start_min, scenario.start_min + int(scenario.duration_min or 0), scenario.down_tier))
    forecast(k, scenario.incidents, disputed)
    return k


def arrival_ranks(incidents: Sequence[Incident]) -> tuple[list[int], bool]:
    """Each incident's place in (arrival, id) order, ties in the order given (a drill's day is in that order),
    and whether the incidents' (arrival, id) pairs are all distinct (then the ranks order tasks exactly as
    (arrival, id) does, with no tie left to the order of a list)."""
    n = len(incidents)
    distinct = True
    for a, b in pairwise(incidents):
        if a.arrival_sec < b.arrival_sec:
            continue
        if a.arrival_sec == b.arrival_sec and a.id <= b.id:
            distinct = distinct and a.id != b.id
            continue
        break
    else:
        return list(range(n)), distinct
    order = sorted(range(n), key=lambda i: (incidents[i].arrival_sec, incidents[i].id))
    ranks = [0] * n
    for r, i in enumerate(order):
        ranks[i] = r
    distinct = all(
        incidents[i].arrival_sec != incidents[j].arrival_sec or incidents[i].id != incidents[j].id
        for i, j in pairwise(order)
    )
    return ranks, distinct


def finish(k: Keeper) -> SimResult:
    """The result of a keeper that has run to its last tick."""
    return SimResult(build_result(k, k.sc, k.first, k.last, k.include_decisions))


def advance(k: Keeper, until_minute: int | None = None, progress: Callable[[float], None] | None = None) -> None:
    """Run the keeper's ticks up to ``until_minute`` (not included), or to the end of the run."""
    global ticks_simulated
    total_ticks = max(1, k.last - k.first)
    stop = total_ticks if until_minute is None else min(total_ticks, max(k.tick, until_minute - k.first))
    ticks_simulated += max(0, stop - k.tick)
    while k.tick < stop:
        _tick(k, k.tick)
        k.tick += 1
        if progress is not None and (k.tick % 60 == 1 or k.tick == total_ticks):
            progress(k.tick / total_ticks)


def _tick(k: Keeper, tick: int) -> None:
    """One minute of the keeper (steps 1-8 of docs/model.md, "One tick")."""
    p = k.p
    scenario = k.sc
    k.staged = scenario.recovery == "staged"
    minute = k.first + tick
    now = minute * 60
    # 1. tier status: outages (the scenario's, and relapses) start and end; waiting work resumes
    k.starts = {}
    for down_from, up_at, tier in list(k.outages):
        if minute == down_from:
            recovery.go_down(k, tier, now)
        if minute == up_at:
            recovery.recover(k, tier, now, minute)
    recovery.resume(k, now, minute)
    # 2. arrivals
    k.oq = k.open_queue() if k.red_active else 0
    tasks = k.tasks
    while k.nxt < len(tasks) and tasks[k.nxt].arrival_sec <= now:
        task = tasks[k.nxt]
        k.nxt += 1
        k.active.append(task)
        if task.events is not None:
            task.log(task.arrival_sec, "arrived", f"{task.severity}, blast radius {num(task.inc.blast_radius)}")
        routes.admit(k, task, now)
    # 3. manual timeout
    if scenario.routing != "hold_all":
        _manual_timeouts(k, now)
    # 4. routing
    routes.note_eligible(k)
    routes.route_pending(k, now)
    # 5. work
    k.cap_left = list(k.cap)
    work.run_work(k, now)
    # 6. manual closes
    work.close_manual(k, now)
    # 7. rework accrues while work waits on a down tier; one pass also counts the queues and drops the
    # tasks that are done or closed by hand
    health.scan(k, now)
    # 8. health, red button, timeline
    k.health = health.compute_health(k)
    k.health_hist.append(k.health)
    if (tick + 1) % p.window_min == 0:
        k.window_health.append(k.health)
    note_guard(k, k.health, now, p.alert_threshold)
    red_button(k, now, tick + 1)
    if scenario.recovery == "staged" and (tick + 1) % p.window_min == 0:
        k.silent_hist.append(sum(1 for t in k.tasks if t.silent_p0))
    recovery.after_minute(k, now, minute)
    k.max_open = max(k.max_open, k.snap_open)
    if k.include_timeline:
        k.timeline.append(timeline_row(k, minute))


def note_guard(k: Keeper, health_now: float, now: int, threshold: float) -> None:
    """Note when token_health first falls below the guard (each time it crosses from above)."""
    if health_now < threshold and not k.guard_below:
        k.guard_breaches.append(clock(now))
    k.guard_below = health_now < threshold
