"""Failover is counted per tier that took it: a three-tier plan names mid-coder, the textbook's figures stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.keeper import failover_summary, simulate
from budget.model import load_scenario, load_spec
from tests.conftest import ROOT, run_cli


def _run(spec: str, scenario: str) -> dict:
    s = load_spec(ROOT / "specs" / spec)
    return simulate(s, load_scenario(ROOT / "scenarios" / scenario, s)).to_dict()


def test_the_mid_plan_fails_over_to_mid_coder_and_names_it():
    r = _run("payment_gateway_80_20_mid.yaml", "fail_local_45m.json")
    assert r["failover_by_tier"] == {"mid-coder": 14, "frontier-reviewer": 0}
    assert r["failover_to_frontier"] == 0  # the count that reached the most expensive tier
    assert r["failover_total"] == 14
    assert r["failover_tier"] == "mid-coder"
    served = [d for d in r["decisions"] if d["route"] == "failover"]
    assert len(served) == 14 and sum(d["severity"] == "P2" for d in served) == 7
    for d in served:  # the trail names the tier that served
        assert any(e["action"] == "failover" and "-> mid-coder (" in e["reason"] for e in d["events"])


@pytest.mark.parametrize("spec", ["budget_network.yaml", "budget_network_5m.yaml", "payment_gateway_85_15.yaml"])
@pytest.mark.parametrize("scenario", ["fail_local_45m.json", "fail_local_15m.json"])
def test_on_two_tiers_every_failover_reaches_the_top(spec: str, scenario: str):
    r = _run(spec, scenario)
    top = r["failover_tier"]
    assert (
        r["failover_by_tier"] == {top: r["failover_to_frontier"]} and r["failover_total"] == r["failover_to_frontier"]
    )


@pytest.mark.parametrize("spec", ["budget_network.yaml", "payment_gateway_80_20_mid.yaml"])
def test_tasks_are_conserved_across_tiers(spec: str):
    r = _run(spec, "fail_local_45m.json")
    direct = r["manual_by_guard"] + r["manual_by_intake_limit"]
    assert sum(r["failover_by_tier"].values()) + r["degraded_queue"] + direct == r["queue"]


def test_summary_line_names_the_tiers_on_a_three_tier_plan():
    r = _run("payment_gateway_80_20_mid.yaml", "fail_local_45m.json")
    assert failover_summary(r) == "failover_to_frontier 0 (failed over: mid-coder 14, frontier-reviewer 0)"
    assert failover_summary(_run("budget_network.yaml", "fail_local_45m.json")) == "failover_to_frontier 5"


def test_cli_prints_the_breakdown(workdir: Path):
    proc = run_cli(
        [
            "simulate",
            "--plan",
            "specs/payment_gateway_80_20_mid.yaml",
            "--scenario",
            "scenarios/fail_local_45m.json",
            "--out",
            "r.json",
        ],
        workdir,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "failover_to_frontier 0 (failed over: mid-coder 14, frontier-reviewer 0), degraded_queue 6, "
        "manual_queue_after_120s 6, reserve_capacity_tasks 55" in proc.stdout
    )
