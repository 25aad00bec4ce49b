from __future__ import annotations

import json

import pytest

from budget.errors import QueryError
from budget.gateway import evaluate, fields_of, parse, seconds_with_unit, value_with_unit
from tests.conftest import run_cli

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


# --- what the command line prints of a query ------------------------------------------------


@pytest.mark.parametrize(
    "clause, value, shown",
    [
        ("mttr_p95 < 5m", 840, "840 s (14.0 min)"),
        ('mttr_p95 < "5m"', 0, "0 s"),
        ("5m > mttr_p95", 90, "90 s"),  # the m of 5m is a unit, not the field
        ("degraded_mode_duration > 120s", 125, "125 s (2.1 min)"),
        ("degraded_queue==15", 15, "15"),  # a count or a share reads the same without a unit
        ("token_health_min>=0.5", 0.555, "0.555"),
        ("red_button.activated==true", True, "true"),
    ],
)
def test_a_value_in_seconds_is_shown_with_its_unit(clause, value, shown):
    assert seconds_with_unit(clause, value) == shown


def test_the_pages_and_the_command_line_show_a_duration_alike():
    assert value_with_unit("mttr_p95 < 5m", 840) == seconds_with_unit("mttr_p95 < 5m", 840) == "840 s (14.0 min)"
    assert value_with_unit("5m > mttr_p95", 90) == "90 s"


def test_inspect_shows_the_unit_and_counts_clauses_in_the_right_number(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"mttr_p95": 840, "degraded_queue": 15}))

    def inspect(query: str) -> tuple[int, list[str]]:
        proc = run_cli(["inspect", "--result", "r.json", "--query", query], tmp_path)
        return proc.returncode, proc.stdout.splitlines()

    assert inspect("mttr_p95 < 5m") == (
        1,
        ["  FAIL  mttr_p95 < 5m  actual 840 s (14.0 min)", "FAIL: the query does not hold (1 of 1 clause false)"],
    )
    assert inspect("degraded_queue==15") == (
        0,
        ["  ok    degraded_queue==15  actual 15", "PASS: the query holds (1 of 1 clause true)"],
    )
    code, lines = inspect("mttr_p95 < 5m && degraded_queue==14 && degraded_queue==15")
    assert code == 1 and lines[-1] == "FAIL: the query does not hold (2 of 3 clauses false)"
