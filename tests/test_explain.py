"""Every run explains itself: the limits, where the rest went, the term of token_health, the floor, the query."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.keeper import simulate
from budget.model import load_scenario, load_spec, scenario_from_dict
from budget.workbench import explain_result
from tests.conftest import ROOT, run_cli


def _run(spec: str, scenario: str | dict, routing: str | None = None) -> tuple[dict, object]:
    s = load_spec(ROOT / "specs" / spec)
    sc = (
        scenario_from_dict(scenario, s)
        if isinstance(scenario, dict)
        else load_scenario(ROOT / "scenarios" / scenario, s)
    )
    return simulate(s, sc, routing=routing).to_dict(), s


def _why(spec: str, scenario: str | dict, routing: str | None = None) -> dict[str, list[str]]:
    result, s = _run(spec, scenario, routing)
    return explain_result(result, s).to_dict()


def test_the_45_minute_outage_names_the_allowance_and_the_rework_owed_while_queues_are_empty():
    why = _why("budget_network.yaml", "fail_local_45m.json")
    assert why["failover"][0] == "5 tasks failed over: 5 to frontier-reviewer (P0 2, P1 3) at 11:02."
    assert why["failover"][1].startswith("the next one, inc-015 (P1) at 11:02, was stopped by the failover allowance")
    assert "250,000 of the 250,000 tokens of frontier-reviewer's failover allowance are committed" in why["failover"][1]
    assert "the failover allowance 2, the severity 13" in why["failover"][2]
    assert why["the rest"][0].startswith("15 waited in the degraded queue (13 from 11:00, 2 from 11:02); 15 of them")
    assert "mttr_p95 840 s is the time of inc-015 (P1, route manual" in why["the rest"][1]
    health = " ".join(why["token_health"])
    assert "h_backlog moved it most" in health
    assert "1,250,000 / (1,250,000 + 671,000) = 0.6507" in health  # docs/model.md's worked example
    assert "from 11:13 every queue is empty, yet token_health keeps falling to 0.55 at 11:44" in health
    assert "warning zone" in why["the floor"][0] and "0.60 guard (breached first at 11:35)" in why["the floor"][0]
    assert why["the composite query"][0].endswith("4 of 4 clauses hold, so the query holds.")


def test_the_15_minute_outage_is_a_guard_that_holds():
    why = _why("budget_network.yaml", "fail_local_15m.json")
    assert "the guard holds" in why["the floor"][0] and "0.7248 (shown 0.72)" in why["the floor"][0]


def test_a_floor_below_050_is_a_plan_that_fails_never_a_warning_zone():
    why = _why("budget_network.yaml", "fail_local_45m.json", routing="all_to_frontier")
    assert "below 0.50: no warning zone, the plan fails this outage" in why["the floor"][0]
    assert "h_frontier" in " ".join(why["token_health"])


def test_the_mid_plan_names_mid_coder_and_says_no_limit_stopped_an_eligible_task():
    why = _why("payment_gateway_80_20_mid.yaml", "fail_local_45m.json")
    assert why["failover"][0] == "14 tasks failed over: 14 to mid-coder (P0 2, P1 5, P2 7) at 11:02."
    assert why["failover"][1].startswith("every task eligible for failover got it")
    assert "the severity 6" in why["failover"][2]


def test_a_blip_shorter_than_the_ranking_window_is_stopped_by_age():
    scenario = {"down_tier": "local-coder", "start": "11:00", "duration_min": 1, "queue": 20, "manual_timeout_sec": 120}
    result, spec = _run("budget_network.yaml", scenario)
    why = explain_result(result, spec).to_dict()
    assert result["failover_total"] == 0
    assert why["failover"][0] == "no task failed over."
    assert "the age 7" in why["failover"][-1] and "inside the ranking window" in why["failover"][-1]


@pytest.mark.parametrize("routing", ["ranked", "hold_all", "all_to_frontier", "close_silently"])
def test_the_counts_are_the_results_own(routing: str):
    result, spec = _run("budget_network.yaml", "fail_local_45m.json", routing)
    why = explain_result(result, spec)
    first = why.to_dict()["failover"][0]
    n = result["failover_total"]
    assert first.startswith(f"{n} task") if n else first == "no task failed over."
    assert why == explain_result(result, spec)  # deterministic


def test_a_query_is_read_clause_by_clause():
    result, spec = _run("budget_network.yaml", "fail_local_45m.json")
    why = explain_result(result, spec, query="token_health_min>=0.5 && failover_to_frontier==7").to_dict()
    assert "1 of 2 clauses hold, so the query fails: failover_to_frontier==7." in why["the composite query"][0]


def test_simulate_explain_prints_the_same_lines(workdir: Path):
    args = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_45m.json"]
    proc = run_cli([*args, "--out", "r.json", "--explain"], workdir)
    assert proc.returncode == 0, proc.stderr
    result, spec = _run("budget_network.yaml", "fail_local_45m.json")
    assert proc.stdout.splitlines()[5:] == explain_result(result, spec).lines()
    plain = run_cli([*args, "--out", "r2.json"], workdir)
    assert proc.stdout.splitlines()[1:5] == plain.stdout.splitlines()[1:]  # the summary itself is unchanged
    assert (workdir / "r.json").read_bytes() == (workdir / "r2.json").read_bytes()


def test_drill_explain_names_the_guard_that_stopped_failover(workdir: Path):
    args = ["drill", "--budget-spec", "specs/payment_gateway_85_15.yaml", "--alerts", "scenarios/alerts_day_800.jsonl"]
    proc = run_cli([*args, "--outages", "15", "--out", "d.json", "--explain"], workdir)
    assert proc.returncode == 1, proc.stderr  # below the guard, as without --explain
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("15m why")]
    text = "\n".join(lines)
    assert "was stopped by the token_health guard: guard: token_health 0.59 < 0.60" in text
    assert "token_health_min 0.5785 (shown 0.57)" in text
    assert (
        "token_health_min>=0.60 && silent_p0==0 (the drill's: the plan's guard, and no P0 closed without "
        "escalation): 0 of 2" in text
    )


def test_the_readmes_explain_transcript_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text()
    shown = [ln for ln in readme.splitlines() if ln.startswith("why ")]
    assert len(shown) >= 5
    result, spec = _run("budget_network.yaml", "fail_local_45m.json")
    printed = explain_result(result, spec).lines()
    for line in shown:
        assert line in printed, line


def test_an_allowance_with_tokens_left_says_what_the_next_task_needs_not_that_it_is_used_up():
    spec = load_spec("specs/budget_network_5m.yaml")
    result = simulate(spec, load_scenario("scenarios/fail_local_45m.json", spec)).to_dict()
    line = explain_result(result, spec).to_dict()["failover"][1]
    assert "100,000 of the 125,000 tokens of frontier-reviewer's failover allowance are committed" in line
    assert "this task needs 50,000 more" in line and "used" not in line
