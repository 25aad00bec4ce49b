"""budget assert (the compile-time checks, no output) and propose (the Low / Default / High table, row by row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.calibration import propose
from budget.gateway import assert_spec
from budget.model import spec_from_text
from tests.conftest import ROOT, run_cli

SPEC = ROOT / "specs" / "budget_network.yaml"


def test_assert_on_the_textbook_spec_exits_0_and_writes_nothing(workdir: Path):
    before = sorted(p.name for p in workdir.rglob("*"))
    proc = run_cli(["assert", "--budget-spec", "specs/budget_network.yaml", "--expect-split", "90/10"], workdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "assert specs/budget_network.yaml: ok",
        "daily_budget_tokens 10,000,000; local-coder 9,000,000; frontier-reviewer 1,000,000; 6 phases; "
        "control_reserve 700,000",
        "split 90/10 (local-coder/frontier-reviewer) vs target 90/10 ±1 pt: ok",
        "2 tiers with tokens; 6 phases with tokens and an sla_p95",
    ]
    assert sorted(p.name for p in workdir.rglob("*")) == before


def test_assert_with_only_the_daily_budget_changed_to_5m_exits_1_with_the_sum(workdir: Path):
    text = SPEC.read_text().replace("daily_budget_tokens: 10000000", "daily_budget_tokens: 5000000")
    (workdir / "b5.yaml").write_text(text)
    proc = run_cli(["assert", "--budget-spec", "b5.yaml"], workdir)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == "assert b5.yaml: FAIL"
    assert "b5.yaml:4: daily_budget_tokens: quota sum 10,000,000 does not equal daily_budget_tokens 5,000,000" in (
        proc.stdout
    )


def test_assert_reports_every_reason():
    wrong = assert_spec(SPEC, "80/20", 1.0)
    assert not wrong.ok
    assert wrong.reasons == [
        "split: local-coder has 90.00% of the day, target 80% ±1 pt",
        "split: frontier-reviewer has 10.00% of the day, target 20% ±1 pt",
    ]
    assert assert_spec(SPEC, "88/12", 2.0).ok  # within a 2-point tolerance
    assert not assert_spec(SPEC, "88/12", 1.5).ok


def test_assert_checks_every_tier_and_phase(tmp_path: Path):
    text = (
        "daily_budget_tokens: 1000\nphases:\n"
        "  triage: {local-coder: 1000, frontier-reviewer: 0, sla_p95: 30s}\n"
        "  plan: {local-coder: 0, frontier-reviewer: 0}\n"
    )
    (tmp_path / "s.yaml").write_text(text)
    result = assert_spec(tmp_path / "s.yaml")
    assert not result.ok
    assert result.reasons == [
        "tier frontier-reviewer: gets no tokens in any phase or the reserve",
        "phase plan: has no tokens on any tier",
        "phase plan: declares no sla_p95 (the keeper would assume 60s)",
    ]
    assert spec_from_text(text)  # compile alone accepts it


def test_assert_usage_errors(workdir: Path):
    proc = run_cli(["assert", "--budget-spec", "specs/budget_network.yaml", "--tolerance", "-1"], workdir)
    assert proc.returncode == 2 and "--tolerance: must be a finite number from 0 to 100, got '-1'" in proc.stderr
    missing = run_cli(["assert", "--budget-spec", "nope.yaml"], workdir)
    assert missing.returncode == 1 and "nope.yaml: no such file" in missing.stdout


# --- propose: every row of the table ------------------------------------------------------


@pytest.mark.parametrize(
    "incidents, tokens, daily",
    [(50, 50_000, 2_500_000), (200, 50_000, 10_000_000), (500, 50_000, 25_000_000), (800, 50_000, 40_000_000),
     (200, 20_000, 4_000_000), (200, 100_000, 20_000_000)],
)  # fmt: skip
def test_incidents_and_cost_rows_size_the_day(incidents: int, tokens: int, daily: int):
    p = propose(incidents, tokens, 0.10, 3)
    assert p.daily_budget_tokens == daily
    assert spec_from_text(p.text).quota_sum() == daily


def test_incidents_rows_set_the_split():
    assert propose(50, 50_000, 0.10, 3).frontier_share == 0.10  # low row: 90/10
    assert propose(200, 50_000, 0.10, 3).frontier_share == 0.10  # default: 9M/1M
    high = propose(500, 50_000, 0.10, 3)
    assert high.frontier_share == 0.20 and "80/20" in high.text  # high row: 80/20


@pytest.mark.parametrize(
    "disputed, frontier", [(0.03, 0.06), (0.05, 0.06), (0.10, 0.10), (0.15, 0.15), (0.18, 0.18), (0.25, 0.20)]
)
def test_disputed_share_row(disputed: float, frontier: float):
    assert propose(200, 50_000, disputed, 3).frontier_share == frontier


@pytest.mark.parametrize(
    "outages, reserve, second_provider",
    [(0, 0.05, False), (1, 0.05, False), (2, 0.07, False), (3, 0.07, False), (4, 0.07, False), (4.5, 0.15, True),
     (6, 0.15, True)],
)  # fmt: skip
def test_outages_row(outages: float, reserve: float, second_provider: bool):
    p = propose(200, 50_000, 0.10, outages)
    assert p.reserve_share == reserve
    assert any("second provider" in r for r in p.reasons) is second_provider
    spec = spec_from_text(p.text)
    assert spec.reserve["local-coder"] == round(p.daily_budget_tokens * reserve)


def test_propose_cli_gives_7_percent_for_4_outages_a_month(workdir: Path):
    proc = run_cli(
        ["propose", "--incidents-per-day", "200", "--disputed-share", "0.10", "--outages-per-month", "4",
         "--out", "out/p.yaml"],
        workdir,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "split 90/10, control_reserve 7% of 10,000,000; wrote out/p.yaml"
    assert "reserve 7%" in proc.stdout
    assert spec_from_text((workdir / "out" / "p.yaml").read_text()).reserve["local-coder"] == 700_000
