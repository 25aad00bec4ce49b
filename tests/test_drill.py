"""The budget drill: the chapter's payment-gateway verdicts, three tiers, history rules, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.drill import apply_history, load_alerts, read_history, run_drill
from budget.errors import BudgetError
from budget.model import load_spec, parse_split, proportion_check
from tests.conftest import ROOT, run_cli

DAY, REPORT = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")


def floors(spec_name: str) -> dict[int, float]:
    spec = load_spec(ROOT / "specs" / spec_name)
    result = run_drill(spec, DAY, outages=(15, 30))
    return {r["outage_min"]: r["token_health_min"] for r in result.runs}


def test_payment_gateway_85_15_breaks_the_guard_at_15_minutes_and_far_lower_at_30():
    f = floors("payment_gateway_85_15.yaml")
    assert f[0] >= 0.95
    assert f[15] < 0.60
    assert f[30] < f[15] - 0.15


def test_recalibrated_80_20_with_mid_coder_and_2m_reserve_holds():
    f = floors("payment_gateway_80_20_mid.yaml")
    assert f[15] >= 0.70
    assert f[30] >= 0.50


def test_three_tiers_compile_and_report_the_split():
    spec = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
    assert spec.tiers == ("local-coder", "mid-coder", "frontier-reviewer")
    checks = proportion_check(spec, parse_split("80/20", spec.tiers))
    assert [(c.tier, round(c.share_pct), c.ok) for c in checks] == [
        ("local-coder+mid-coder", 80, True),
        ("frontier-reviewer", 20, True),
    ]


def test_mid_tier_takes_diagnosis_and_p2_failover():
    spec = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
    from budget.keeper import simulate
    from budget.model import scenario_from_dict

    r = simulate(
        spec, scenario_from_dict({"down_tier": "local-coder", "start": "11:00", "duration_min": 30, "queue": 20}, spec)
    ).to_dict()
    targets = [
        e["reason"].split("-> ")[1].split(" ")[0]
        for d in r["decisions"]
        for e in d["events"]
        if e["action"] == "failover"
    ]
    sev = {d["id"]: d["severity"] for d in r["decisions"]}
    p2 = [d for d in r["decisions"] if d["severity"] == "P2"]
    assert "mid-coder" in targets
    assert all(d["route"] == "failover" for d in p2)
    assert r["phases"]["diagnosis"]["mid-coder"]["spent"] > 0
    assert sev  # every decision is logged


def _review(result, hist: Path) -> dict:
    hist.write_text(apply_history(result, read_history(hist, result.spec_name)))
    return result.review


def test_history_rules(tmp_path: Path):
    spec = load_spec(ROOT / "specs" / "payment_gateway_85_15.yaml")
    hist = tmp_path / "drill_history.jsonl"
    first = run_drill(spec, DAY, outages=(15,), spec_name="pg")
    assert _review(first, hist) == {"required": False, "reasons": [], "run": 1}
    second = run_drill(spec, DAY, outages=(15,), spec_name="pg")
    review = _review(second, hist)
    assert review["required"] and "two consecutive runs" in review["reasons"][0]
    third = run_drill(spec, DAY[:500], outages=(15,), spec_name="pg")
    assert any("flow changed by -38%" in r for r in _review(third, hist)["reasons"])
    assert len(hist.read_text().splitlines()) == 3


def test_bad_outages_and_tier():
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    with pytest.raises(BudgetError, match="between 1 and 1440"):
        run_drill(spec, DAY, outages=(0,))
    with pytest.raises(BudgetError, match="unknown tier 'gpu'"):
        run_drill(spec, DAY, down_tier="gpu")


def test_drill_cli_exit_codes_and_outputs(workdir: Path):
    proc = run_cli(
        [
            "drill",
            "--budget-spec",
            "specs/payment_gateway_85_15.yaml",
            "--alerts",
            "scenarios/alerts_day_800.jsonl",
            "--outages",
            "15,30",
            "--out",
            "out/d.json",
            "--csv",
            "out/d.csv",
        ],
        workdir,
    )
    assert proc.returncode == 1, proc.stderr
    assert "below the 0.60 guard" in proc.stdout
    data = json.loads((workdir / "out" / "d.json").read_text())
    assert data["outages"]["15"]["token_health_min"] < 0.6
    assert (workdir / "out" / "d.csv").read_text().startswith("outage_min,mttr_p95,escalation_share")
    ok = run_cli(
        [
            "drill",
            "--budget-spec",
            "specs/payment_gateway_80_20_mid.yaml",
            "--alerts",
            "scenarios/samples/pagerduty_incidents.json",
            "--out",
            "out/ok.json",
        ],
        workdir,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_cli(
        ["drill", "--budget-spec", "specs/budget_network.yaml", "--alerts", "nope.jsonl", "--out", "out/x.json"],
        workdir,
    )
    assert bad.returncode == 1 and bad.stderr.strip() == "budget: error: nope.jsonl: no such file"
    assert not (workdir / "out" / "x.json").exists()
