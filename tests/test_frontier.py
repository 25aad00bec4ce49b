"""Frontier pressure: the payment-gateway case from the model, capacity, reviews, disputed share, calibration."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from budget.keeper import simulate
from budget.keeper.workload import disputed_flags
from budget.model import Incident, Scenario, load_spec, scenario_from_dict, spec_from_text, tier_capacity_tpm
from tests.conftest import ROOT, run_cli

DAY = "scenarios/alerts_day_800.jsonl"
OLD = "specs/payment_gateway_85_15.yaml"
NEW = "specs/payment_gateway_80_20_mid.yaml"


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, dict]]:
    """Both payment plans drilled on the shipped day through the CLI, as the README types it."""
    work = tmp_path_factory.mktemp("drills")
    for folder in ("specs", "scenarios"):
        (work / folder).symlink_to(ROOT / folder)
    out: dict[str, dict[int, dict]] = {}
    for spec in (OLD, NEW):
        target = f"out/{Path(spec).stem}.json"
        proc = run_cli(["drill", "--budget-spec", spec, "--alerts", DAY, "--outages", "15,30", "--out", target], work)
        assert proc.returncode in (0, 1), proc.stderr
        assert "silent_p0" in proc.stdout.splitlines()[2]  # the table shows it
        data = json.loads((work / target).read_text())
        out[spec] = {int(k): v for k, v in data["outages"].items()}
    return out


def test_85_15_breaks_at_15_minutes_and_falls_to_the_chapters_030_at_30(drills):
    runs = drills[OLD]
    assert 0.50 <= runs[15]["token_health_min"] < 0.60  # chapter: 0.55
    assert 0.30 <= runs[30]["token_health_min"] < 0.40  # chapter: 0.35
    assert 0.03 <= runs[15]["silent_p0"] <= 0.06  # chapter: 4.2 %
    assert runs[0]["silent_p0"] == 0  # the outage, not the day, closes P0 without escalation


def test_80_20_with_mid_coder_holds_and_is_no_worse_anywhere(drills):
    old, new = drills[OLD], drills[NEW]
    assert new[15]["token_health_min"] >= 0.70
    assert new[30]["token_health_min"] >= 0.50
    assert new[15]["silent_p0"] <= 0.015  # chapter: 1.1 %
    assert new[0]["mttr_p95"] < 300  # chapter: 3.2 minutes
    for minutes in (15, 30):
        assert new[minutes]["mttr_p95"] <= old[minutes]["mttr_p95"]
        assert new[minutes]["manual_queue"] <= old[minutes]["manual_queue"]
    assert new[15]["mid_tier_saturation"] > 0 and old[15]["mid_tier_saturation"] == 0


def test_recalibrated_plan_raises_its_guard_to_065():
    assert load_spec(ROOT / NEW).policy.alert_threshold == 0.65
    assert load_spec(ROOT / OLD).policy.alert_threshold == 0.60


def test_every_result_reports_mid_tier_saturation():
    spec = load_spec(ROOT / NEW)
    sc = scenario_from_dict({"down_tier": "local-coder", "start": "11:00", "duration_min": 30, "queue": 40}, spec)
    r = simulate(spec, sc).to_dict()
    cap = r["tiers"]["mid-coder"]["capacity_tpm"]
    assert 0 < r["mid_tier_saturation"] <= 1
    assert r["mid_tier_saturation"] == r["tiers"]["mid-coder"]["capacity_peak_use"]
    assert cap == tier_capacity_tpm(spec)["mid-coder"]
    textbook = load_spec(ROOT / "specs" / "budget_network.yaml")
    assert simulate(textbook, scenario_from_dict({"queue": 5}, textbook)).to_dict()["mid_tier_saturation"] == 0


def _spec(policy: str) -> str:
    return f"""daily_budget_tokens: 1000000
phases:
  triage: {{local-coder: 300000, frontier-reviewer: 50000, sla_p95: 30s}}
  diagnosis: {{local-coder: 300000, frontier-reviewer: 50000, sla_p95: 90s}}
  remediation: {{local-coder: 200000, frontier-reviewer: 50000, sla_p95: 180s}}
  postmortem: {{local-coder: 50000, frontier-reviewer: 0, sla_p95: 10m}}
policy:
  tokens_per_incident: 10000
{policy}"""


def _incidents(n: int, severity: str = "P0", every_sec: int = 0) -> tuple[Incident, ...]:
    return tuple(Incident(f"i{k:03d}", severity, 600 + k * every_sec, 3, 0.0) for k in range(n))


def _run(spec_text: str, incidents: tuple[Incident, ...], **outage: object) -> dict:
    spec = spec_from_text(spec_text, "t.yaml")
    sc = Scenario(queue=len(incidents), incidents=incidents, start="00:10", **outage)  # type: ignore[arg-type]
    return simulate(spec, sc).to_dict()


def test_no_tier_serves_more_than_its_capacity_in_a_minute():
    r = _run(_spec("  capacity_tpm: {local-coder: 4000, frontier-reviewer: 1500}\n"), _incidents(12))
    for prev, row in zip(r["timeline"], r["timeline"][1:], strict=False):
        assert row["spent"]["local-coder"] - prev["spent"]["local-coder"] <= 4000 + 1e-6
        assert row["spent"]["frontier-reviewer"] - prev["spent"]["frontier-reviewer"] <= 1500 + 1e-6
    # the same queue with room to spare resolves faster: capacity, not quota, was the limit
    roomy = _run(_spec(""), _incidents(12))
    assert roomy["mttr_p95"] < r["mttr_p95"]


def test_a_review_that_cannot_make_the_sla_closes_the_p0_without_escalation():
    # 20 P0 at once, each wanting a 5,000-token review from a frontier that serves 1,000 a minute
    r = _run(_spec("  review_share: 0.5\n  capacity_tpm: {frontier-reviewer: 1000}\n"), _incidents(20))
    closed = [d for d in r["decisions"] if any(e["action"] == "closed-unescalated" for e in d["events"])]
    assert closed and r["silent_p0"] == pytest.approx(len(closed) / 20, abs=1e-4)
    reason = next(e["reason"] for e in closed[0]["events"] if e["action"] == "closed-unescalated")
    assert "could not review within the P0 SLA" in reason
    assert r["escalation_share"] < 1  # escalations fall while MTTR stays within the SLA: the Goodhart trap
    assert r["sla_breaches"]["P0"] == 0
    roomy = _run(_spec("  review_share: 0.5\n  capacity_tpm: {frontier-reviewer: 100000}\n"), _incidents(20))
    assert roomy["silent_p0"] == 0 and roomy["escalation_share"] == 1


def test_ranked_failover_respects_the_upper_tiers_capacity():
    tight = _spec("  failover_allowance_share: 1.0\n  capacity_tpm: {frontier-reviewer: 300}\n")
    r = _run(tight, _incidents(6, "P1"), down_tier="local-coder", duration_min=30)
    refused = [e["reason"] for d in r["decisions"] for e in d["events"] if "at capacity" in e["reason"]]
    assert refused and "would miss its P1 SLA" in refused[0]
    assert r["failover_to_frontier"] < 6
    roomy = _spec("  failover_allowance_share: 1.0\n")
    assert _run(roomy, _incidents(6, "P1"), down_tier="local-coder", duration_min=30)["failover_to_frontier"] == 6


def test_disputed_share_gives_that_share_of_reviews_with_p0_first_and_deterministically():
    spec = spec_from_text(_spec("  disputed_share: 0.25\n"), "t.yaml")
    incs = tuple(Incident(f"a{k}", "P0" if k % 20 == 0 else "P2", k * 60, 1, 0.99) for k in range(400))
    flags = disputed_flags(incs, spec.policy)
    reviewed = sum(1 for i, f in zip(incs, flags, strict=True) if f or i.severity == "P0")
    assert reviewed == 100  # a quarter of 400, the 20 P0 included, whatever the confidence gaps say
    assert flags == disputed_flags(incs, spec.policy)
    assert sum(flags[:200]) == pytest.approx(sum(flags[200:]), abs=2)  # spread over the day, not bunched
    no_share = spec_from_text(_spec(""), "t.yaml")
    assert all(disputed_flags(incs, no_share.policy))  # without it, the confidence gap decides


def test_phase_shares_override_the_plans_spread():
    even = "  phase_shares: {triage: 0.25, diagnosis: 0.25, remediation: 0.25, postmortem: 0.25}\n"
    r = _run(_spec(even), _incidents(4, "P3"))
    spent = {p: v["local-coder"]["spent"] for p, v in r["phases"].items()}
    assert spent["triage"] == spent["diagnosis"] == spent["remediation"] == spent["postmortem"] == 10_000


def test_rework_of_one_task_never_exceeds_its_tokens():
    spec = load_spec(ROOT / OLD)  # 0.12 of an incident a minute: a full incident after ~8 minutes
    sc = scenario_from_dict(
        {"down_tier": "local-coder", "start": "11:00", "duration_min": 60, "queue": 10, "policy": "hold_all"}, spec
    )
    r = simulate(spec, sc).to_dict()
    owed = max(row["rework_owed"] for row in r["timeline"])
    assert owed <= 10 * spec.policy.tokens_per_incident


@pytest.mark.parametrize("field", ["capacity_tpm: {frontier-reviewer: %s}", "disputed_share: %s"])
@pytest.mark.parametrize("value", ["-5", ".nan", ".inf", "-.inf", "lots"])
def test_bad_capacity_or_disputed_share_is_one_line_exit_1_and_no_output(workdir: Path, field: str, value: str):
    text = (ROOT / OLD).read_text() + "  " + field % value + "\n"
    text = text.replace("  capacity_tpm:                #", "  capacity_tpm_was:            #", 1)
    if field.startswith("capacity"):
        text = text.replace("capacity_tpm_was:", "# capacity_tpm:").replace("    frontier-reviewer: 16000", "#", 1)
    else:
        text = text.replace("  disputed_share: 0.24", "  # disputed_share", 1)
    (workdir / "bad.yaml").write_text(text)
    for args in (
        ["compile", "--budget-spec", "bad.yaml", "--out", "out/plan.json"],
        ["drill", "--budget-spec", "bad.yaml", "--alerts", DAY, "--outages", "15", "--out", "out/plan.json"],
    ):
        proc = run_cli(args, workdir)
        assert proc.returncode == 1, proc.stdout
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "bad.yaml" in lines[0]
        assert ("capacity_tpm" if field.startswith("capacity") else "disputed_share") in lines[0]
        assert not (workdir / "out" / "plan.json").exists()


@pytest.fixture(scope="module")
def default_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    work = tmp_path_factory.mktemp("sweep")
    for folder in ("specs", "scenarios"):
        (work / folder).symlink_to(ROOT / folder)
    args = ["calibrate", "--budget-spec", NEW, "--alerts", DAY, "--out", "out/rec.yaml", "--csv", "out/sweep.csv"]
    proc = run_cli([*args, "--quiet"], work, timeout=900)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO((work / "out" / "sweep.csv").read_text())))
    return proc.stdout, rows


def test_default_sweep_tells_plans_apart_and_recommends_15_to_20_percent(default_sweep):
    out, rows = default_sweep
    passing = [r for r in rows if r["meets_targets"] == "True"]
    assert len(passing) < len(rows) / 2
    share = float(out.split("recommended: frontier ")[1].split("%")[0])
    assert 15 <= share <= 20
    # below 15 % the frontier cannot pay for the team's reviews: nothing there passes, and the table says why
    low = [r for r in rows if float(r["frontier_share"]) < 0.15]
    assert low and not any(r["meets_targets"] == "True" for r in low)
    assert all("silent_p0" in r["why"] or "<0.70" in r["why"] for r in low)


def test_every_sweep_row_says_what_it_missed(default_sweep):
    _, rows = default_sweep
    for r in rows:
        assert {"meets_targets", "why", "token_health_min_15m", "token_health_min_30m", "silent_p0_15m"} <= set(r)
        if r["meets_targets"] == "True":
            assert r["why"] == "meets every target"
        else:
            assert r["why"] and r["why"] != "meets every target"


def test_readme_shows_what_the_payment_drills_and_the_sweep_print(tmp_path: Path, default_sweep):
    readme = (ROOT / "README.md").read_text()
    for folder in ("specs", "scenarios"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    for spec, outages in ((OLD, "15,30,45"), (NEW, "15,30")):
        proc = run_cli(
            ["drill", "--budget-spec", spec, "--alerts", DAY, "--outages", outages, "--out", "d.json"], tmp_path
        )
        table = proc.stdout.splitlines()[2:-1]  # the header, each run, the verdict
        assert len(table) >= 4
        for line in table:
            assert line in readme, line
    out, _ = default_sweep
    for line in out.splitlines()[2:5]:  # the recommendation, its floors, its price
        assert line in readme, line
