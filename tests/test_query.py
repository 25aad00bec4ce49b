from __future__ import annotations

import pytest

from budget.errors import QueryError
from budget.gateway import evaluate, fields_of, parse

R = {
    "failover_to_frontier": 5,
    "degraded_queue": 15,
    "token_health_min": 0.5721,
    "mttr_p95": 240,
    "silent_p0": 0.01,
    "red_button": {"activated": True, "events": [{"time": "11:00"}]},
    "tiers": {"local-coder": {"spent": 10}},
    "policy": "ranked",
}


@pytest.mark.parametrize(
    "query, ok",
    [
        ("failover_to_frontier==5 && degraded_queue==15", True),
        ("failover_to_frontier==4 || degraded_queue==15", True),
        ("!(failover_to_frontier==5)", False),
        ("!failover_to_frontier==4", True),
        ("(failover_to_frontier==4 || degraded_queue==15) && token_health_min>=0.5", True),
        ("token_health_min < 0.60 && token_health_min >= 0.5", True),
        ("token_health_min > 0.6", False),
        ("token_health_min != 0.5721", False),
        ("mttr_p95 < 5m", True),
        ('mttr_p95 < "4m"', False),
        ("mttr_p95 <= 240s", True),
        ("silent_p0 > 2%", False),
        ("red_button.activated==true", True),
        ("red_button.activated", True),
        ("red_button.events.0.time == '11:00'", True),
        ("tiers.local-coder.spent == 10", True),
        ("policy == 'ranked'", True),
        ("a_missing_value == null || true == true", None),
    ],
)
def test_queries(query, ok):
    if ok is None:
        with pytest.raises(QueryError):
            evaluate(query, R)
        return
    assert evaluate(query, R).ok is ok


def test_each_clause_reports_its_actual_value():
    out = evaluate("failover_to_frontier==5 && token_health_min>=0.7", R)
    assert [(c.text, c.actual, c.ok) for c in out.clauses] == [
        ("failover_to_frontier==5", 5, True),
        ("token_health_min>=0.7", 0.5721, False),
    ]


def test_and_binds_tighter_than_or():
    assert evaluate("degraded_queue==1 && degraded_queue==2 || failover_to_frontier==5", R).ok


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "is empty"),
        ("token_health_min>=", r"column 19: expected a field, number, duration or true/false"),
        ("token_health_min>=0.5 &&", r"column 25: expected a field"),
        ("(token_health_min>=0.5", r"missing '\)'"),
        ("token_health_min=0.5", r"unexpected character '='|use == to compare"),
        ("token_health_min>=0.5 degraded_queue==15", r"expected && or \|\|"),
        ("token_helth_min>=0.5", r"unknown field 'token_helth_min'.*did you mean 'token_health_min'"),
        ("red_button.actived==true", r"did you mean 'red_button.activated'"),
        ("import os", r"expected && or \|\|"),
        ("__import__('os')", r"unexpected|expected"),
        ("red_button > 1", r"is a group of fields"),
        ("policy > 1", r"> needs numbers"),
        ("5 == 5", r"a value alone|column"),
    ],
)
def test_malformed_queries_point_at_the_problem(query, message):
    with pytest.raises(QueryError, match=message):
        evaluate(query, R)


def test_fields_of():
    assert fields_of(parse("a==1 && !(b.c<2 || d)")) == ["a", "b.c", "d"]
