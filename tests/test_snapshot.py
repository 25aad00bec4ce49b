"""Shared pre-outage stretches give exactly the results of runs simulated from the start."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.calibration import Variant, variant_spec
from budget.keeper import simulate
from budget.keeper.simulate import advance, start_run
from budget.keeper.snapshot import Run, fork, simulate_shared, why_not_shared
from budget.model import Scenario, day_incidents, format_clock, load_spec, scale_spec
from tests.conftest import ROOT

MID = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
SPECS = {
    "85/15": load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml"),
    "80/20 mid": MID,
    "textbook": load_spec(ROOT / "specs" / "budget_network.yaml"),
    # a day with more work than the budget: quotas run out and tasks wait in the degraded queue before the outage
    "starved": scale_spec(MID, 0.004),
    # token_health dips to 0.57 at 08:01 with no task waiting: the guard's record differs before the outage
    "lean": scale_spec(MID, 0.05),
}


def plain(run: Run) -> str:
    return simulate(run.spec, run.scenario, None, None, run.include_decisions, run.include_timeline).to_json()


def day(n: int, spec_name: str, seed: int = 3) -> tuple:
    return day_incidents(n, seed, SPECS[spec_name].policy)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec_name=st.sampled_from(sorted(SPECS)),
    n=st.integers(20, 90),
    start=st.integers(30, 1200),
    outages=st.lists(st.integers(1, 90), min_size=1, max_size=3),
    baseline=st.booleans(),
    timeouts=st.lists(st.sampled_from([30, 60, 120, 600]), min_size=1, max_size=2, unique=True),
    guards=st.lists(st.sampled_from([0.55, 0.60, 0.65, 0.9]), min_size=1, max_size=2, unique=True),
    horizon=st.sampled_from(["day", "day", "scenario"]),
    recovery=st.sampled_from(["instant", "immediate", "staged"]),
    detail=st.lists(st.booleans(), min_size=2, max_size=2),
)
def test_shared_runs_equal_runs_from_the_start(
    spec_name, n, start, outages, baseline, timeouts, guards, horizon, recovery, detail
):
    base = SPECS[spec_name]
    incidents = day(n, spec_name)
    runs = []
    for guard in guards:
        spec = base.model_copy(update={"policy": base.policy.model_copy(update={"alert_threshold": guard})})
        for timeout in timeouts:
            for minutes in ([0] if baseline else []) + outages:
                scenario = Scenario(
                    down_tier=spec.cheapest if minutes else None,
                    start=format_clock(start),
                    duration_min=minutes or None,
                    queue=n,
                    manual_timeout_sec=timeout,
                    incidents=incidents,
                    horizon=horizon,
                    recovery=recovery,
                )
                runs.append(Run(spec, scenario, include_decisions=detail[0], include_timeline=detail[1] or not minutes))
    shared = [r.to_json() for r in simulate_shared(runs)]
    assert shared == [plain(r) for r in runs]


@pytest.mark.parametrize(("base", "n", "guards"), [(MID, 120, (0.60, 0.65)), (SPECS["lean"], 60, (0.50, 0.65))])
def test_a_sweep_group_equals_its_variants_run_alone(base, n, guards):
    """The variants of one split and reserve (timeouts x guards) share their day up to the outage."""
    day_ = day(n, "80/20 mid")
    runs = []
    for timeout in (60, 120):
        for guard in guards:
            spec = base.model_copy(update={"policy": base.policy.model_copy(update={"alert_threshold": guard})})
            for minutes in (15, 30, 45):
                sc = Scenario(
                    down_tier="local-coder",
                    start="11:00",
                    duration_min=minutes,
                    queue=len(day_),
                    manual_timeout_sec=timeout,
                    incidents=day_,
                    horizon="day",
                )
                runs.append(Run(spec, sc, include_decisions=False, include_timeline=False))
    trunk = start_run(runs[0].spec, runs[0].scenario.model_copy(update={"down_tier": None, "duration_min": None}))
    advance(trunk, until_minute=11 * 60)
    assert all(why_not_shared(trunk, r.scenario, r.spec) is None for r in runs)  # one stretch for all twelve
    assert [r.to_json() for r in simulate_shared(runs)] == [plain(r) for r in runs]


def test_what_cannot_be_shared_is_refused():
    incidents = day(60, "80/20 mid")
    base = Scenario(queue=60, incidents=incidents, horizon="day", manual_timeout_sec=120)
    outage = base.model_copy(update={"down_tier": "local-coder", "duration_min": 30})
    trunk = start_run(MID, base)
    advance(trunk, until_minute=11 * 60 + 1)
    assert why_not_shared(trunk, outage) == "the outage would have started already"
    with pytest.raises(ValueError, match="cannot share the run so far: the outage would have started"):
        fork(trunk, outage)
    early = start_run(MID, base)
    advance(early, until_minute=600)
    other_plan = variant_spec(MID, Variant(0.10, 2_000_000, 120, MID.policy.alert_threshold))
    assert why_not_shared(early, outage, other_plan) == "the plans differ in more than the guard"
    hold = outage.model_copy(update={"routing": "hold_all"})
    assert why_not_shared(early, hold) == "the scenarios differ in more than the outage and the manual timeout"
    assert why_not_shared(early, outage.model_copy(update={"manual_timeout_sec": 60})) is None
    lean = start_run(SPECS["starved"], base)
    advance(lean, until_minute=600)
    assert lean.counts["degraded"] > 0  # the starved day has tasks waiting before the outage
    assert why_not_shared(lean, outage.model_copy(update={"manual_timeout_sec": 60})) == (
        "a task has waited in the degraded queue, so the manual timeout has acted"
    )
    no_log = start_run(MID, base, include_decisions=False)
    with pytest.raises(ValueError, match="kept no decisions log"):
        fork(no_log, outage, include_decisions=True)


@pytest.mark.parametrize(
    ("spec_name", "guards", "apart"),
    [
        ("80/20 mid", (0.60, 0.65), False),  # token_health stays above both guards (0.97 at its lowest)
        ("lean", (0.50, 0.9), False),  # below both through the outage (0.09-0.16): they block alike
        ("lean", (0.12, 0.9), True),  # between the two: the runs part
    ],
)
def test_guard_variants_run_together_until_their_guards_could_decide_apart(spec_name, guards, apart):
    """Runs that differ only in the guard are one run while token_health stays on the same side of both guards."""
    engine = sys.modules["budget.keeper.simulate"]  # the package's `simulate` is the function

    start = engine.ticks_simulated
    base = SPECS[spec_name]
    day_ = day(80, spec_name)
    runs = []
    for guard in guards:
        spec = base.model_copy(update={"policy": base.policy.model_copy(update={"alert_threshold": guard})})
        sc = Scenario(down_tier="local-coder", start="11:00", duration_min=45, queue=80, incidents=day_, horizon="day")
        runs.append(Run(spec, sc, include_decisions=False, include_timeline=False))
    shared = [r.to_json() for r in simulate_shared(runs)]
    one_run = engine.ticks_simulated - start
    assert shared == [plain(r) for r in runs]
    apart_ticks = engine.ticks_simulated - start - one_run  # the two runs simulated each from the start
    assert one_run < apart_ticks
    assert (2 * one_run == apart_ticks) is not apart  # together: the two runs took the ticks of one


@pytest.mark.parametrize("spec_name", ["80/20 mid", "starved"])
def test_runs_that_keep_no_log_share_settled_tasks_without_taking_the_others_log(spec_name):
    """A copy shares the tasks that no tick changes any more; a run that keeps no decisions log gets its own
    copies of those without the log, and the runs forked before and after it keep theirs."""
    incidents = day(90, spec_name)
    runs = []
    for n, minutes in enumerate((0, 15, 30, 45, 60)):
        scenario = Scenario(
            down_tier="local-coder" if minutes else None,
            start="11:00",
            duration_min=minutes or None,
            queue=90,
            incidents=incidents,
            horizon="day",
        )
        runs.append(Run(SPECS[spec_name], scenario, include_decisions=n % 2 == 1, include_timeline=n % 2 == 0))
    shared = [r.to_json() for r in simulate_shared(runs)]
    assert shared == [plain(r) for r in runs]
    assert all('"events": []' not in s for s in shared[1::2])  # the logs kept are whole: no task lost its events


def test_a_copy_shares_only_the_tasks_no_tick_changes_any_more():
    scenario = Scenario(start="11:00", queue=90, incidents=day(90, "80/20 mid"), horizon="day")
    k = start_run(MID, scenario)
    advance(k, until_minute=660)
    twin = k.clone()
    live = {id(t) for t in k.active + k.owed + k.review_queue}
    shared = {id(a) for a, b in zip(k.tasks, twin.tasks, strict=True) if a is b}
    assert shared and shared == k.settled()
    assert not shared & live
    assert all(id(t) not in shared for t in k.tasks[k.nxt :])  # not arrived yet: each run has its own


def test_only_the_task_lists_hold_tasks():
    """A copy maps the tasks of ``tasks``, ``active``, ``owed`` and ``review_queue`` and deep-copies every other
    container as it is: no other attribute may hold a task, at any tick of a run with an outage."""
    from budget.keeper.state import _attributes
    from budget.keeper.task import Task

    def tasks_inside(value: object, depth: int = 0) -> bool:
        if isinstance(value, Task):
            return True
        if depth > 6 or isinstance(value, (str, bytes)):
            return False
        if isinstance(value, dict):
            return any(tasks_inside(x, depth + 1) for x in (*value.keys(), *value.values()))
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(tasks_inside(x, depth + 1) for x in value)
        return False

    scenario = Scenario(
        down_tier="local-coder", start="11:00", duration_min=90, queue=90, incidents=day(90, "80/20 mid"), horizon="day"
    )
    k = start_run(MID, scenario)
    seen = set()
    while k.tick < k.last - k.first:
        advance(k, until_minute=k.first + k.tick + 1)
        for name in _attributes(k):
            if name in ("tasks", "active", "owed", "review_queue", "spec", "sc", "p"):
                if getattr(k, name):
                    seen.add(name)
                continue
            assert not tasks_inside(getattr(k, name)), name
    assert {"active", "owed", "review_queue"} <= seen  # the run put tasks in every one of them
