"""The budget keeper's behaviour and its properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.errors import BudgetError
from budget.keeper import simulate
from budget.model import BudgetSpec, load_scenario, load_spec, scale_spec, scenario_from_dict, spec_from_text
from tests.conftest import ROOT

SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")
SPEC_5M = load_spec(ROOT / "specs" / "budget_network_5m.yaml")


def run(spec: BudgetSpec = SPEC, routing: str | None = None, **fields):  # noqa: ANN003
    data = {"down_tier": "local-coder", "start": "11:00", "duration_min": 45, "queue": 20, "manual_timeout_sec": 120}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return simulate(spec, scenario_from_dict(data, spec), routing=routing).to_dict()


def test_ranked_failover_picks_p0_p1_by_blast_radius_then_age():
    r = run()
    failed_over = [d for d in r["decisions"] if d["route"] == "failover"]
    assert len(failed_over) == 5
    assert all(d["severity"] in ("P0", "P1") for d in failed_over)
    others = [d for d in r["decisions"] if d["severity"] in ("P0", "P1") and d["route"] != "failover"]
    assert min(d["blast_radius"] for d in failed_over) >= max(d["blast_radius"] for d in others)
    # failover only after the 90 s ranking window
    assert all(any(e["action"] == "failover" and e["time"] == "11:02" for e in d["events"]) for d in failed_over)


def test_every_decision_has_a_reason():
    r = run()
    for d in r["decisions"]:
        assert d["events"][0]["action"] == "arrived"
        assert all(e["reason"] for e in d["events"])
    degraded = next(d for d in r["decisions"] if d["route"] == "manual")
    assert any("timeout 120s" in e["reason"] for e in degraded["events"])


def test_no_outage_degrades_nothing():
    r = run(down_tier=None, duration_min=None)
    assert r["failover_to_frontier"] == 0 and r["degraded_queue"] == 0 and r["manual_queue"] == 0
    assert r["token_health_min"] >= 0.95
    assert not r["red_button"]["activated"]


def test_all_to_frontier_sends_everything_and_exhausts_the_upper_tier():
    r = run(routing="all_to_frontier")
    assert r["failover_to_frontier"] == 20
    assert r["token_health_min"] <= 0.2
    assert r["tiers"]["frontier-reviewer"]["remaining"] == 0
    assert r["frontier_reserved_for_p0_p1"] is False


def test_hold_all_breaches_the_p0_p1_sla():
    r = run(routing="hold_all")
    assert r["failover_to_frontier"] == 0
    assert r["sla_breaches"]["P0"] > 0 and r["sla_breaches"]["P1"] > 0
    assert r["manual_queue"] == 0
    ranked = run()
    assert ranked["sla_breaches"]["P0"] == 0 and ranked["sla_breaches"]["P1"] == 0


def test_red_button_records_time_and_reason():
    r = run()
    first = r["red_button"]["events"][0]
    assert first["time"] == "11:00" and first["active"] is True
    assert "local-coder endpoint down" in first["conditions"]
    assert r["red_button_review"] is True


def test_guard_blocks_failover_and_sends_the_decision_manual():
    spec = spec_from_text((ROOT / "specs" / "budget_network.yaml").read_text() + "policy:\n  alert_threshold: 0.95\n")
    r = run(spec)
    assert r["failover_to_frontier"] == 0
    assert r["manual_by_guard"] == 7
    reasons = [e["reason"] for d in r["decisions"] for e in d["events"] if e["action"] == "manual"]
    assert any("guard: token_health" in x and "blocks automatic failover" in x for x in reasons)


def test_timeline_has_a_row_per_minute_with_spent_and_queues():
    r = run()
    rows = r["timeline"]
    assert rows[0]["time"] == "11:00" and len(rows) == 45 + 60
    assert {"token_health", "pending", "degraded", "manual", "failover", "spent", "queue_by_phase"} <= set(rows[0])
    assert rows[44]["down"] == ["local-coder"] and rows[45]["down"] == []
    assert r["phases"]["triage"]["frontier-reviewer"]["spent"] > 0


def test_unknown_down_tier_is_an_error():
    with pytest.raises(BudgetError, match=r"down_tier: unknown tier 'local-codr'"):
        run(down_tier="local-codr")


def test_reference_scenarios_load(tmp_path):
    sc = load_scenario(ROOT / "scenarios" / "fail_local_45m.json", SPEC)
    assert (sc.down_tier, sc.start, sc.duration_min, sc.queue, sc.manual_timeout_sec) == (
        "local-coder",
        "11:00",
        45,
        20,
        120,
    )
    sev = [i.severity for i in sc.incidents]
    assert (sev.count("P0"), sev.count("P1"), sev.count("P2"), sev.count("P3")) == (2, 5, 7, 6)


def test_explicit_incidents():
    data = {
        "down_tier": "local-coder",
        "start": "11:00",
        "duration_min": 10,
        "manual_timeout_sec": 120,
        "incidents": [
            {"id": "a", "severity": "P0", "blast_radius": 4, "arrival": "11:00", "confidence_gap": 0.1},
            {"id": "b", "severity": "P3", "blast_radius": 1, "arrival": 30},
        ],
    }
    r = simulate(SPEC, scenario_from_dict(data, SPEC)).to_dict()
    routes = {d["id"]: d["route"] for d in r["decisions"]}
    assert routes == {"a": "failover", "b": "manual"}


# --- properties -------------------------------------------------------------------------

scenarios = st.fixed_dictionaries(
    {
        "duration_min": st.integers(1, 180),
        "queue": st.integers(0, 60),
        "manual_timeout_sec": st.sampled_from([30, 60, 120, 300, 900]),
        "seed": st.integers(0, 50),
    }
)
scales = st.floats(0.05, 4.0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(sc=scenarios, scale=scales)
def test_tasks_are_conserved(sc, scale):
    r = run(scale_spec(SPEC, scale), **sc)
    # every task fails over, waits in the degraded queue, or goes straight to manual (guard or intake limit)
    direct = r["manual_by_guard"] + r["manual_by_intake_limit"]
    assert r["failover_to_frontier"] + r["degraded_queue"] + direct == r["queue"]
    assert r["manual_queue_after_" + str(sc["manual_timeout_sec"]) + "s"] <= r["degraded_queue"]
    if sc["duration_min"] * 60 < sc["manual_timeout_sec"]:
        # nothing reaches the manual channel because of the outage; a budget too small for
        # the queue can still stall tasks later, and those say so
        for d in r["decisions"]:
            if d["route"] == "manual":
                assert any("quota exhausted" in e["reason"] for e in d["events"]), d
        if scale >= 0.5:
            assert r["manual_queue"] == 0


@SETTINGS
@given(sc=scenarios, scale=scales, routing=st.sampled_from(["ranked", "all_to_frontier", "hold_all"]))
def test_health_bounded_and_no_tier_overspends(sc, scale, routing):
    r = run(scale_spec(SPEC, scale), routing=routing, **sc)
    assert all(0.0 <= row["token_health"] <= 1.0 for row in r["timeline"])
    for tier, t in r["tiers"].items():
        assert t["spent"] <= t["quota"] + 1
        if routing == "ranked" and tier == "frontier-reviewer":
            assert t["failover_tokens"] <= t["failover_allowance"] + 1


@SETTINGS
@given(sc=scenarios, extra=st.integers(1, 120))
def test_longer_outage_never_raises_the_floor(sc, extra):
    short = run(**sc)["token_health_min"]
    long = run(**{**sc, "duration_min": min(1440, sc["duration_min"] + extra)})["token_health_min"]
    assert long <= short + 1e-9


@SETTINGS
@given(sc=scenarios, extra=st.integers(1, 40))
def test_longer_queue_never_raises_the_floor(sc, extra):
    small = run(**sc)["token_health_min"]
    big = run(**{**sc, "queue": sc["queue"] + extra})["token_health_min"]
    assert big <= small + 1e-9


@SETTINGS
@given(sc=scenarios, big=st.floats(0.2, 4.0), shrink=st.floats(0.1, 0.99))
def test_smaller_budget_never_raises_the_floor(sc, big, shrink):
    large = run(scale_spec(SPEC, big), **sc)["token_health_min"]
    small = run(scale_spec(SPEC, big * shrink), **sc)["token_health_min"]
    assert small <= large + 1e-9


@SETTINGS
@given(sc=scenarios)
def test_identical_inputs_give_identical_output(sc):
    a = json.dumps(run(**sc), sort_keys=False)
    b = json.dumps(run(**sc), sort_keys=False)
    assert a == b


# --- the return after recovery ----------------------------------------------------------


def test_immediate_return_floods_the_tier_and_a_second_dip_follows():
    r = run(duration_min=30, queue=40, manual_timeout_sec=3600, recovery="immediate")
    assert len(r["recovery"]["relapses"]) == 1
    assert "down again for 5 min" in r["recovery"]["relapses"][0]["reason"]
    assert r["recovery"]["second_dip"] > 0.05
    assert [row["down"] for row in r["timeline"]].count(["local-coder"]) == 30 + 5


def test_staged_return_goes_through_its_stages_without_a_second_cascade():
    r = run(duration_min=30, queue=40, manual_timeout_sec=3600, recovery="staged")
    assert r["recovery"]["relapses"] == []
    assert r["recovery"]["second_dip"] == 0
    assert [e["stage"] for e in r["recovery"]["stages"]] == [1, 2, 3]
    assert "three stable token_health windows" in r["recovery"]["stages"][1]["reason"]
    stages = [row["stage"] for row in r["timeline"]]
    assert stages.index(1) < stages.index(2) < stages.index(3)
    # stage 1 takes 30% of the fragile tier's capacity: 3 of 10 tasks a minute
    resumed = [e["time"] for d in r["decisions"] for e in d["events"] if e["reason"].endswith("(stage 1)")]
    assert max(resumed.count(t) for t in set(resumed)) == 3


def test_staged_return_opens_diagnosis_and_plan_in_stage_2_and_the_rest_after_the_audits():
    r = run(duration_min=30, queue=40, manual_timeout_sec=3600, recovery="staged")
    stage_at = {e["stage"]: e["time"] for e in r["recovery"]["stages"]}
    assert "diagnosis and plan open" in r["recovery"]["stages"][1]["reason"]
    assert "audits done" in r["recovery"]["stages"][2]["reason"]
    phases = ("triage", "classification", "diagnosis", "plan", "remediation", "postmortem")
    held = [e for d in r["decisions"] for e in d["events"] if "does not run" in e["reason"]]
    assert held, "some task reached a phase its stage had not opened"
    for e in held:
        stage = 1 if e["time"] < stage_at[2] else 2
        assert e["time"] <= stage_at[3]  # stage 3 begins at the end of its minute
        phase = e["reason"].split("does not run ")[1].split(" ")[0]
        assert phases.index(phase) >= (2 if stage == 1 else 4)  # stage 1: triage/classification; 2: + diagnosis/plan
    # with the manual channel engaged, its PostToolUse audits run in stage 2, and the full return follows them
    m = run(duration_min=30, queue=40, manual_timeout_sec=120, recovery="staged")
    at = {e["stage"]: e["time"] for e in m["recovery"]["stages"]}
    audits = [e["time"] for d in m["decisions"] for e in d["events"] if e["action"] == "audit"]
    assert audits and at[2] <= min(audits) and max(audits) <= at[3]


def test_red_button_holds_p2_p3_remediation_for_a_human_go_ahead():
    r = run(routing="all_to_frontier")
    waits = [(d["severity"], e) for d in r["decisions"] for e in d["events"] if e["action"] == "remediation-waits"]
    assert waits and all(sev in ("P2", "P3") for sev, _ in waits)
    assert all("no mass automatic remediation" in e["reason"] for _, e in waits)
    red_on = {row["time"] for row in r["timeline"] if row["red_button"]}
    assert all(e["time"] in red_on for _, e in waits)  # only while the button is active


def test_instant_return_is_the_default_and_keeps_the_chapters_numbers():
    r = run()
    assert r["recovery"] == {"mode": "instant", "stages": [], "relapses": [], "second_dip": 0.0}


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "c10", "c9"])), max_size=30))
def test_a_task_s_rank_is_its_place_in_arrival_and_id_order(pairs):
    """The line's tie-break: a task's rank orders tasks that began their phase in the same minute as
    (arrival, id) does, ties in the order given (a stable sort)."""
    from budget.keeper.simulate import arrival_ranks
    from budget.model import Incident

    incidents = [Incident(ident, "P2", arrival) for arrival, ident in pairs]
    ranks, distinct = arrival_ranks(incidents)
    assert distinct == (len(set(pairs)) == len(pairs))
    assert sorted(ranks) == list(range(len(incidents)))
    by_rank = [incidents[i] for i in sorted(range(len(incidents)), key=ranks.__getitem__)]
    assert by_rank == sorted(incidents, key=lambda x: (x.arrival_sec, x.id))
    assert all(ranks[i] < ranks[j] for i in range(len(pairs)) for j in range(i + 1, len(pairs)) if pairs[i] == pairs[j])


@pytest.mark.parametrize("minutes", [45, 90])
def test_the_review_line_as_one_number_orders_as_its_tuple_key(minutes):
    """With distinct (arrival, id) pairs the frontier's review line sorts on one number; it must give the
    order of the (class, request time, arrival, id) key it stands for, decision for decision."""
    import importlib

    from budget.drill import drill_runs, load_alerts, sorted_incidents

    sim = importlib.import_module("budget.keeper.simulate")
    day, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
    spec = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
    run_ = drill_runs(spec, sorted_incidents(day), [minutes], "11:00", spec.cheapest, 120, "s", True, True)[0]
    outputs = []
    for one_number in (True, False):
        k = sim.start_run(run_.spec, run_.scenario)
        assert k.ranks_distinct
        k.ranks_distinct = one_number  # False: the tuple key
        sim.advance(k)
        outputs.append(sim.finish(k).to_json())
    assert outputs[0] == outputs[1]
    # audits of the manual channel's decisions (class 1) and P0/disputed reviews (2+) shared the line; some dropped
    assert '"post-analysis"' in outputs[0] and '"review"' in outputs[0] and '"closed-unescalated"' in outputs[0]


@given(
    st.lists(st.sampled_from([0.0, 0.001, 0.2, 0.5, 0.5, 0.73, 0.999]) | st.floats(0, 1, exclude_max=True)),
    st.integers(-2, 40),
)
def test_the_smallest_values_are_those_a_full_sort_ranks_first(values, count):
    from budget.keeper.workload import _smallest

    assert _smallest(values, count) == sorted(range(len(values)), key=values.__getitem__)[: max(0, count)]


@pytest.mark.parametrize("n", [1, 7, 100, 5_000, 76_000])
def test_the_smallest_weyl_values_are_those_a_full_sort_ranks_first(n):
    from budget.keeper.workload import _PHI, _smallest

    weyl = [((j + 1) * _PHI) % 1.0 for j in range(n)]
    full = sorted(range(n), key=weyl.__getitem__)
    for count in {0, 1, n // 4, n // 3, n - 1, n}:
        assert _smallest(weyl, count) == full[:count]


def test_a_task_s_copy_carries_every_field():
    """Task's constructor and its copy each list the fields (written out for the compiled keeper): a field
    added to one and not the other would silently come back as its default in every outage run."""
    from budget.keeper.task import Task
    from budget.model import Incident

    # the fields: __slots__ as Python, the compiled class's attributes (budget/native.py)
    fields = [f for f in getattr(Task, "__mypyc_attrs__", ()) or Task.__slots__ if not f.startswith("__")]
    assert len(fields) == 33
    task = Task(Incident("x", "P1", 60), True, 7, True)
    for n, name in enumerate(fields):
        if name in ("inc", "severity", "arrival_sec", "events"):  # the incident's, and the log
            continue
        default = getattr(task, name)
        if isinstance(default, bool):
            value: object = not default
        elif isinstance(default, float):
            value = 0.5 + n
        elif isinstance(default, str) or name == "tier":
            value = f"value {n}"
        else:  # a whole number, or one not set yet
            value = 1000 + n
        setattr(task, name, value)  # a value the constructor does not give
    task.events = [(60, "arrived", "P1")]
    twin = task.clone()
    assert [getattr(twin, name) for name in fields] == [getattr(task, name) for name in fields]
    assert twin.events is not task.events
