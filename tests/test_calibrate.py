"""Calibration sweeps and the chapter's Low / Default / High table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from budget.calibration import Variant, calibrate, grid, price_of, propose, spec_yaml, variant_spec
from budget.drill import load_alerts
from budget.errors import BudgetError, UsageError
from budget.gateway import load_checks
from budget.keeper import health_text
from budget.model import load_spec, spec_from_text
from tests.conftest import ROOT, run_cli

DAY, _ = load_alerts(ROOT / "scenarios" / "alerts_day_800.jsonl")
MID = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
CHECKS = load_checks(ROOT / "specs" / "validation" / "budget_gate.yaml")


def test_variant_keeps_the_day_and_moves_the_split():
    spec = variant_spec(MID, Variant(0.10, 3_000_000, 120, 0.65))
    assert spec.quota_sum() == spec.daily_budget_tokens == 50_000_000
    assert spec.tier_total("frontier-reviewer") == 5_000_000
    assert spec.reserve["local-coder"] == 3_000_000
    assert spec.policy.alert_threshold == 0.65
    assert spec.policy.tokens_per_incident == MID.policy.tokens_per_incident
    again = spec_from_text(spec_yaml(spec, "header"))
    assert again.phases == spec.phases and again.reserve == spec.reserve and again.policy == spec.policy


def test_calibration_finds_a_plan_at_least_as_good_as_the_chapters_and_prices_it():
    chapter = Variant(0.20, 2_000_000, 120, 0.60)
    variants = [chapter, *grid([0.10, 0.15], [2_000_000, 3_000_000], [120], [0.60])]
    cal = calibrate(MID, DAY, variants, outages=(15, 30, 45), checks=CHECKS, workers=2)
    by_variant = {r.variant: r for r in cal.rows}
    assert by_variant[chapter].meets  # the chapter's 80/20 + 2M + mid-coder meets the targets
    best = cal.recommended
    assert best is not None and best.meets
    assert best.floors[15] >= 0.70 and best.floors[30] >= 0.50 and not best.gateway_failed
    assert best.cost <= by_variant[chapter].cost
    assert best.cost == pytest.approx(price_of(cal.recommended_spec))
    assert cal.csv().splitlines()[0].startswith("index,frontier_share,control_reserve,manual_timeout_sec")


def test_a_variant_below_half_that_passes_the_gateway_says_why_it_is_not_recommended():
    # 5 % of the day for the frontier: token_health 0.00 at every outage, and still "gateway pass" (the
    # gateway's anti_goodhart_budget applies only to fast, unescalated runs, and these runs are neither)
    cal = calibrate(MID, DAY, grid([0.05, 0.15], [3_000_000], [60], [0.60]), checks=CHECKS, workers=2)
    low, good = cal.rows
    assert min(low.floors.values()) < 0.50 and not low.gateway_failed and not low.meets
    assert min(good.floors.values()) >= 0.50 and cal.recommended is good
    notes = cal.row_notes()
    assert set(notes) == {low.index}  # only the row that needs it
    assert notes[low.index].startswith("gateway pass (anti_goodhart_budget never applied), but below 0.50 at 15m 0.00")
    assert notes[low.index].endswith("the plan fails those outages; misses the targets: not recommended")
    note = cal.gateway_note()
    assert note is not None
    # two short sentences (what the variant is, why the gateway let it pass), then the recommendation
    assert note == (
        "1 variant passes the gateway yet falls below 0.50 at an outage, and a plan below 0.50 fails that outage. "
        'The gateway let it pass because anti_goodhart_budget applies only when mttr_p95 < "5m" and '
        "escalation_ratio < 0.08, and a check that does not apply cannot fail a plan. "
        "That variant misses the targets and is not recommended."
    )
    # without the gateway there is no "gateway pass" to explain
    assert calibrate(MID, DAY, grid([0.05], [3_000_000], [60], [0.60]), workers=1).gateway_note() is None


def test_sweep_is_deterministic_across_worker_counts():
    variants = grid([0.10, 0.20], [700_000], [120], [0.60])
    one = calibrate(MID, DAY[:300], variants, outages=(15, 30), workers=1)
    two = calibrate(MID, DAY[:300], variants, outages=(15, 30), workers=2)
    assert one.csv() == two.csv()


def test_empty_ranges_and_bad_targets():
    with pytest.raises(UsageError, match="frontier shares are empty"):
        grid([], [1], [1], [0.6])
    with pytest.raises(BudgetError, match="targets name outages"):
        calibrate(MID, DAY, grid([0.1], [1_000_000], [120], [0.6]), outages=(45,))


def test_propose_follows_the_calibration_table():
    low = propose(40, 50_000, 0.04, 1)
    assert (low.daily_budget_tokens, low.frontier_share, low.reserve_share) == (2_000_000, 0.06, 0.05)
    default = propose(200, 50_000, 0.10, 3)
    assert (default.daily_budget_tokens, default.frontier_share, default.reserve_share) == (10_000_000, 0.10, 0.07)
    high = propose(800, 50_000, 0.20, 6)
    assert (high.frontier_share, high.reserve_share) == (0.20, 0.15)
    spec = spec_from_text(high.text)
    assert spec.quota_sum() == 40_000_000


def test_calibrate_cli(workdir: Path):
    proc = run_cli(
        [
            "calibrate",
            "--budget-spec",
            "specs/payment_gateway_80_20_mid.yaml",
            "--alerts",
            "scenarios/alerts_day_800.jsonl",
            "--frontier-shares",
            "0.15:0.20:0.05",
            "--reserves",
            "2000000",
            "--timeouts",
            "120",
            "--thresholds",
            "0.60",
            "--quiet",
            "--out",
            "out/rec.yaml",
            "--csv",
            "out/sweep.csv",
        ],
        workdir,
    )
    assert proc.returncode == 0, proc.stderr
    assert "recommended: frontier 15.0%, control_reserve 2,000,000" in proc.stdout
    assert load_spec(workdir / "out" / "rec.yaml").tier_total("frontier-reviewer") == 7_500_000
    empty = run_cli(
        [
            "calibrate",
            "--budget-spec",
            "specs/payment_gateway_80_20_mid.yaml",
            "--alerts",
            "scenarios/alerts_day_800.jsonl",
            "--reserves",
            "",
            "--out",
            "x.yaml",
            "--csv",
            "x.csv",
        ],
        workdir,
    )
    assert empty.returncode == 2 and "budget calibrate: usage error: --reserves '': the range is empty" in empty.stderr
    assert not (workdir / "x.csv").exists()


def test_calibrate_cli_says_why_a_variant_below_half_passes_the_gateway(workdir: Path):
    args = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml"]
    args += ["--alerts", "scenarios/alerts_day_800.jsonl", "--validation", "specs/validation/budget_gate.yaml"]
    args += ["--frontier-shares", "0.05,0.15", "--reserves", "3000000", "--timeouts", "60", "--thresholds", "0.60"]
    proc = run_cli([*args, "--quiet", "--out", "out/rec.yaml", "--csv", "out/sweep.csv"], workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("swept 2 variants")
    assert lines[2].startswith("note: 1 variant passes the gateway yet falls below 0.50 at an outage, and a plan")
    assert lines[2].endswith("That variant misses the targets and is not recommended.")
    assert lines[3].startswith("recommended: frontier 15.0%")


def test_calibrate_prints_and_writes_token_health_rounded_down(workdir: Path):
    # the README's recommended variant alone: its 30-minute floor is 0.8681, shown 0.86 (rounded down, as the
    # Calibrate page and every other token_health figure), never 0.87
    args = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml", "--alerts"]
    args += ["scenarios/alerts_day_800.jsonl", "--frontier-shares", "0.15", "--reserves", "3000000"]
    args += ["--timeouts", "60", "--thresholds", "0.60", "--quiet", "--out", "rec.yaml", "--csv", "sweep.csv"]
    proc = run_cli(args, workdir)
    assert proc.returncode == 0, proc.stderr
    row = next(csv.DictReader((workdir / "sweep.csv").read_text().splitlines()))
    floors = ", ".join(f"{m}m {health_text(float(row[f'token_health_min_{m}m']))}" for m in (15, 30, 45))
    assert float(row["token_health_min_30m"]) == 0.8681 and "30m 0.86," in floors
    assert f"  token_health_min {floors}\n" in proc.stdout
    assert f"# token_health_min {floors};" in (workdir / "rec.yaml").read_text()


def test_the_drill_review_rule_shows_the_previous_floor_rounded_down(workdir: Path):
    # a previous run at 0.5996 is below the 0.60 guard: the reason must not print it as 0.60
    spec = "specs/payment_gateway_85_15.yaml"
    prev = {"run": 1, "day": "", "spec": spec, "flow": 800, "token_health_min": 0.5996, "outages": {"15": 0.5996}}
    (workdir / "h.jsonl").write_text(json.dumps(prev) + "\n")
    args = ["drill", "--budget-spec", spec, "--alerts", "scenarios/alerts_day_800.jsonl", "--outages", "15"]
    proc = run_cli([*args, "--out", "d.json", "--csv", "d.csv", "--history", "h.jsonl"], workdir)
    assert proc.returncode == 1, proc.stderr
    assert "token_health_min below 0.60 on two consecutive runs (0.59, then 0.57)" in proc.stdout


def test_calibrate_prints_the_cost_with_its_unit_and_where_the_guard_comes_from(workdir: Path):
    # the Calibrate page says "32.73 USD a day": the CLI says the same; and the recommended guard (0.60, below
    # the base spec's 0.65) is one of the sweep's guards: both do as well here, 0.60 comes first in the sweep
    args = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml", "--alerts"]
    args += ["scenarios/alerts_day_800.jsonl", "--frontier-shares", "0.15", "--reserves", "3000000"]
    args += ["--timeouts", "60", "--quiet", "--out", "rec.yaml", "--csv", "sweep.csv"]
    proc = run_cli(args, workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rec = lines.index("recommended: frontier 15.0%, control_reserve 3,000,000, manual timeout 60s, guard 0.60")
    guard = (
        "guard 0.60 is one of the sweep's guards (0.60, 0.65; the base spec has 0.65): "
        "0.65 meets the targets as well at the same cost, and 0.60 comes first in the sweep"
    )
    assert lines[rec + 1] == f"  {guard}"
    assert lines[rec + 3].startswith("  50,000,000 tokens a day, 32.73 USD a day at the policy's prices (base plan: ")
    assert lines[rec + 3].endswith(" USD a day)")
    header = (workdir / "rec.yaml").read_text()
    assert "tokens a day, 32.73 USD a day\n" in header and f"# {guard}\n" in header
