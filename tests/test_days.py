"""Histories of several days: the drill and the sweep run each day, and report per day and over all days."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from budget.calibration import calibrate, grid
from budget.drill import load_alerts, load_days, run_drill
from budget.model import load_spec
from tests.conftest import ROOT, run_cli

WEEK = ROOT / "scenarios" / "alerts_week.jsonl"
MID = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")


def test_one_day_is_what_the_importer_gives():
    day = ROOT / "scenarios" / "alerts_day_800.jsonl"
    history = load_days([day])
    assert not history.several
    assert (history.days[0].incidents, history.days[0].report) == load_alerts(day)


def test_the_week_splits_at_midnight_into_its_seven_days():
    history = load_days([WEEK])
    assert [(d.day, len(d.incidents)) for d in history.days] == [
        ("2026-11-23", 800),
        ("2026-11-24", 780),
        ("2026-11-25", 1150),
        ("2026-11-26", 820),
        ("2026-11-27", 790),
        ("2026-11-28", 700),
        ("2026-11-29", 560),
    ]
    assert all(0 <= i.arrival_sec < 86400 for d in history.days for i in d.incidents)
    assert history.files[0].records == history.files[0].imported == 5600


def test_several_files_are_one_history(tmp_path: Path):
    lines = WEEK.read_text().splitlines(keepends=True)
    (tmp_path / "b.jsonl").write_text("".join(lines[3000:]))  # the later days first: order does not matter
    (tmp_path / "a.jsonl").write_text("".join(lines[:3000]))  # 2026-11-26 is cut in two
    split = load_days([tmp_path / "b.jsonl", tmp_path / "a.jsonl"])
    whole = load_days([WEEK])
    assert [d.day for d in split.days] == [d.day for d in whole.days]
    assert [d.incidents for d in split.days] == [d.incidents for d in whole.days]


def test_a_drill_of_the_week_writes_the_week_history_day_by_day(workdir: Path):
    """One run over the week stream gives the history seven one-day drills gave (scripts/drill_history_week.py)."""
    args = ["drill", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml", "--alerts", "scenarios/alerts_week.jsonl"]
    proc = run_cli([*args, "--out", "week.json", "--csv", "week.csv", "--history", "h.jsonl"], workdir)
    assert proc.returncode == 1, proc.stderr  # 2026-11-25 runs its quotas dry
    assert (workdir / "h.jsonl").read_bytes() == (ROOT / "scenarios" / "drill_history_week.jsonl").read_bytes()
    data = json.loads((workdir / "week.json").read_text())
    assert [d["alerts"]["day"] for d in data["days"]] == [f"2026-11-{n}" for n in range(23, 30)]
    total = data["over_all_days"]
    assert total["worst_day"] == "2026-11-25" and "2026-11-25" in total["below_guard"]
    assert total["token_health_min"] == min(d["token_health_min"] for d in data["days"])
    rows = list(csv.DictReader((workdir / "week.csv").read_text().splitlines()))
    assert len(rows) == 7 * 4 and rows[0]["day"] == "2026-11-23"
    assert "over 7 days (2026-11-23 to 2026-11-29):" in proc.stdout
    gate = run_cli(["validate", "--validation", "specs/validation/budget_gate.yaml", "--metrics", "week.json"], workdir)
    assert gate.returncode == 0, gate.stderr  # every day's outages are checked
    assert "[2026-11-25 outage 45m] check anti_goodhart_budget" in gate.stdout
    assert "PASS: 63 evaluated" in gate.stdout  # 7 days x 3 outages x 3 checks


def test_a_day_below_the_guard_without_an_outage_is_named_as_such(workdir: Path):
    """2026-11-25 (1,150 alerts) runs its quotas dry with local-coder up all day: its outages are not the cause."""
    args = ["drill", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml", "--alerts", "scenarios/alerts_week.jsonl"]
    proc = run_cli([*args, "--out", "week.json"], workdir)
    assert proc.returncode == 1, proc.stderr
    data = json.loads((workdir / "week.json").read_text())
    below_alone = [d["alerts"]["day"] for d in data["days"] if d["outages"]["0"]["token_health_min"] < d["fail_under"]]
    assert below_alone == ["2026-11-25"]  # the only such day of the week; 2026-11-27 breaks only at 45 minutes
    assert data["over_all_days"]["outages"]["0"]["days_below_guard"] == below_alone
    note = (
        "the no-outage run is itself below the 0.65 guard (token_health_min 0.00): the day's load breaches it "
        "without any outage, so an outage is not the cause"
    )
    lines = proc.stdout.splitlines()
    # each day's block: the note right under the verdict of that day, and of no other
    for day in data["days"]:
        head = f"drill of specs/payment_gateway_80_20_mid.yaml on {day['alerts']['day']}: local-coder down from 11:00"
        verdict = lines.index(f"{head}; guard 0.65") + 6  # the header, the table's head and four rows
        assert lines[verdict].startswith("verdict: ")
        assert (lines[verdict + 1] == f"note: {note}") == (day["alerts"]["day"] in below_alone)
    summary = lines[lines.index("over 7 days (2026-11-23 to 2026-11-29):") :]
    assert summary[1].endswith("manual 390 in all; below the guard on 1 day: 2026-11-25")  # no outage
    assert summary[5] == f"  2026-11-25: {note}"
    assert summary[6] == "wrote week.json"


def test_the_drill_of_each_day_is_the_one_day_drill():
    history = load_days([WEEK])
    day = history.days[4]
    alone = run_drill(MID, day.incidents, outages=(15,), report=day.report)
    assert alone.report["day"] == "2026-11-27" and alone.flow == 790


@pytest.mark.parametrize("workers", [1, 2])
def test_a_variant_meets_the_targets_only_on_every_day(workers: int):
    history = load_days([WEEK])
    days = {d.day: d.incidents[:250] for d in history.days[:2]} | {history.days[2].day: history.days[2].incidents}
    variants = grid([0.15, 0.20], [2_000_000], [120], [0.60])
    together = calibrate(MID, days, variants, outages=(15, 30), workers=workers)
    alone = {day: calibrate(MID, inc, variants, outages=(15, 30), workers=1) for day, inc in days.items()}
    for i, row in enumerate(together.rows):
        per_day = [alone[d].rows[i] for d in days]
        assert row.floors == {m: min(r.floors[m] for r in per_day) for m in (15, 30)}
        assert row.meets == all(r.meets for r in per_day)
        assert [r.to_dict() for r in (together.day_rows[d][i] for d in days)] == [r.to_dict() for r in per_day]
    assert not any(r.meets for r in together.rows)  # the 1,150-alert day fails every variant
    table = list(csv.DictReader(together.csv().splitlines()))
    assert [r["day"] for r in table[:4]] == [*days, "all"]
    assert table[3]["why"].startswith("2026-11-25: ")
