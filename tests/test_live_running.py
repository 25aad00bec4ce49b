"""The live day's running keeper: run on minute by minute, it decides what a keeper started afresh from the
same log decides, and it never runs a minute twice while the facts come in order."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from budget.model import load_spec
from budget.traffic.live.running import RunningDay

ENGINE = sys.modules["budget.keeper.simulate"]  # the package's `simulate` is the function

SPEC = load_spec("specs/budget_network.yaml")
PAYMENT = load_spec("specs/payment_gateway_80_20_mid.yaml")


def picture(k) -> tuple:
    """What a request reads from the keeper: each task's state, tier and route, the tiers down, health."""
    tasks = tuple((t.inc.id, t.state, t.tier, t.failover, t.manual_closed) for t in k.tasks)
    return tasks, tuple(sorted(k.down)), round(k.health, 9), dict(k.counts)


def fresh(spec, facts, second) -> tuple:
    day = RunningDay(spec, 120, "instant")
    for kind, body in facts:
        day.note(kind, body)
    return picture(day.keeper_at(second))


@st.composite
def day_of_facts(draw):
    """Facts in time order, each followed by a request at its second: incidents, one tier down then up."""
    n = draw(st.integers(1, 12))
    seconds = sorted(draw(st.lists(st.integers(36000, 36000 + 5400), min_size=n, max_size=n)))
    sev = draw(st.lists(st.sampled_from(["P0", "P1", "P2", "P3"]), min_size=n, max_size=n))
    blast = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    events = [
        (s, "seen", {"id": f"inc-{i}", "severity": sev[i], "second": s, "blast_radius": blast[i]})
        for i, s in enumerate(seconds)
    ]
    down = draw(st.integers(36000, 36000 + 3600))
    up = draw(st.integers(down + 60, down + 3600))
    tier = draw(st.sampled_from(["local-coder", "frontier-reviewer"]))
    events += [(down, "down", {"tier": tier, "second": down}), (up, "up", {"tier": tier, "second": up})]
    events.sort(key=lambda e: (e[0], e[1] != "down"))
    asks = sorted(draw(st.lists(st.integers(36000, 36000 + 7200), max_size=6)))
    return events, asks


@settings(max_examples=40, deadline=None)
@given(day_of_facts())
def test_the_running_keeper_decides_as_a_keeper_started_afresh_from_the_same_log(case):
    events, asks = case
    running = RunningDay(SPEC, 120, "instant")
    noted: list[tuple[str, dict]] = []
    moments = sorted([(s, 0, i) for i, (s, _, _) in enumerate(events)] + [(s, 1, -1) for s in asks])
    for second, is_ask, i in moments:
        if not is_ask:
            _, kind, body = events[i]
            running.note(kind, body)
            noted.append((kind, body))
        assert picture(running.keeper_at(second)) == fresh(SPEC, noted, second)
    early = any(s < events[0][0] for s in asks)  # asked before any fact: started at minute 0, then on the facts
    assert running.restarts <= 1 + early  # facts in order: the base never starts over


def test_a_new_incident_late_in_the_day_runs_one_minute_not_the_day():
    day = RunningDay(PAYMENT, 120, "instant")
    day.note("down", {"tier": "local-coder", "second": 60})
    day.note("seen", {"id": "early", "severity": "P1", "second": 61})
    day.keeper_at(61)
    day.keeper_at(20 * 3600)  # the base runs the day up to 20:00 once
    before = ENGINE.ticks_simulated
    for i in range(10):
        second = 20 * 3600 + i
        day.note("seen", {"id": f"late-{i}", "severity": "P2", "second": second})
        k = day.keeper_at(second)
        assert any(t.inc.id == f"late-{i}" for t in k.tasks)
    # one tick for each new fact's minute (10) and the one minute that went by (20:00): never the day again
    assert ENGINE.ticks_simulated - before == 11
    assert day.restarts == 1


def test_a_fact_for_a_minute_already_run_starts_the_base_over_with_it_in_place():
    day = RunningDay(SPEC, 120, "instant")
    day.note("down", {"tier": "local-coder", "second": 39600})
    day.note("seen", {"id": "a", "severity": "P0", "second": 39600})
    day.keeper_at(39600 + 600)
    # another worker noted this incident at 11:01 and its record reached the log after ours at 11:10
    late = {"id": "b", "severity": "P0", "second": 39660, "blast_radius": 5}
    day.note("seen", late)
    got = picture(day.keeper_at(39600 + 600))
    assert day.restarts == 2
    assert got == fresh(
        SPEC,
        [
            ("down", {"tier": "local-coder", "second": 39600}),
            ("seen", {"id": "a", "severity": "P0", "second": 39600}),
            ("seen", late),
        ],
        39600 + 600,
    )


def test_a_tier_that_comes_up_with_no_down_today_was_down_since_the_day_began():
    day = RunningDay(SPEC, 120, "instant")
    day.note("seen", {"id": "a", "severity": "P2", "second": 60})
    day.note("up", {"tier": "local-coder", "second": 120})
    assert [(o.start, o.end, o.tier) for o in day.outages] == [(0, 2, "local-coder")]
