"""A drill that skipped alert records is not green: it says so in its verdict and exits 1 unless told to accept."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from budget.cli import main
from budget.drill import load_days
from tests.conftest import ROOT

SPEC = "specs/payment_gateway_80_20_mid.yaml"
GOOD = "2026-11-24T01:26:29Z,warning,search,1,0.05,alert-00001"
BAD = "2026-02-30T01:26:29Z,warning,search,1,0.05,alert-00002"  # a day that does not exist


def _drill(workdir: Path, *extra: str) -> int:
    return main(["drill", "--budget-spec", SPEC, "--alerts", "a.csv", "--out", "d.json", *extra])


@pytest.fixture
def half_skipped(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    (workdir / "a.csv").write_text(f"timestamp,severity,service,blast_radius,confidence_gap,id\n{GOOD}\n{BAD}\n")
    return workdir


def test_one_of_two_records_skipped_fails_the_drill_and_says_so(half_skipped: Path, capsys):
    assert _drill(half_skipped) == 1
    out = capsys.readouterr().out
    assert "every outage holds the 0.65 guard" in out  # the outages alone would pass
    assert (
        "verdict: 1 of 2 alert records skipped (reasons above): the drill did not see them; "
        "fix the records, or pass --accept-skipped" in out
    )
    assert "1 skipped (line 3:" in out  # the reason, with its line
    assert (half_skipped / "d.json").exists()  # the drill's result is written all the same: it is the verdict


def test_accept_skipped_lets_a_drill_pass_and_says_what_it_accepted(half_skipped: Path, capsys):
    assert _drill(half_skipped, "--accept-skipped") == 0
    assert "verdict: 1 of 2 alert records skipped, accepted (--accept-skipped)" in capsys.readouterr().out


def test_no_shipped_alert_file_skips_a_record():
    shipped = glob.glob(str(ROOT / "scenarios" / "**" / "*.*"), recursive=True)
    files = [f for f in shipped if any(k in f for k in ("alert", "pagerduty", "grafana")) and "history" not in f]
    assert len(files) >= 8
    for f in files:
        assert all(not r.skipped for r in load_days([f]).files), f
