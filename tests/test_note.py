from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.keeper import simulate
from budget.model import load_scenario, load_spec
from budget.workbench import entry_from_result, merge_note, write_note
from tests.conftest import ROOT

SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")
RESULT = simulate(SPEC, load_scenario(ROOT / "scenarios" / "fail_local_45m.json", SPEC)).to_dict()


def test_entry_prefilled_from_the_result():
    e = entry_from_result(RESULT, "high_memory_usage")
    assert e.risk == "local-coder unavailable 45m"
    assert e.effect == "5 tasks go to frontier-reviewer, 15 remain degraded/manual"
    assert e.simulated_floor == RESULT["token_health_min"]
    assert e.alert_threshold == 0.60
    assert e.warning_zone == (RESULT["token_health_min"], 0.60)


def test_threshold_at_or_below_the_floor_is_a_guard_that_holds():
    e = entry_from_result(RESULT, "x", alert_threshold=0.5)
    assert e.zone == "holds" and e.warning_zone is None
    assert e.verdict_line() == "simulated_floor 0.55, alert_threshold 0.50: the guard holds (0.55 >= 0.50)"


def test_other_cases_stay_untouched_and_replacing_asks(tmp_path: Path):
    note = tmp_path / "capstone" / "budget-note.md"
    write_note(note, entry_from_result(RESULT, "high_memory_usage"))
    write_note(note, entry_from_result(RESULT, "disk_full", risk="local-coder unavailable 45m at night"))
    before = note.read_text()
    hand_edit = before.replace("## disk_full\n", "## disk_full\n\nA line written by hand.\n")
    note.write_text(hand_edit)
    with pytest.raises(BudgetError, match="already in the note"):
        write_note(note, entry_from_result(RESULT, "high_memory_usage", decision="something else"))
    assert note.read_text() == hand_edit
    write_note(note, entry_from_result(RESULT, "high_memory_usage", decision="keep ranked failover"), replace=True)
    text = note.read_text()
    assert "A line written by hand." in text
    assert 'decision: "keep ranked failover"' in text
    assert text.index("## high_memory_usage") < text.index("## disk_full")


def test_merge_is_deterministic():
    e = entry_from_result(RESULT, "a")
    assert merge_note(None, e) == merge_note(None, e)
    assert merge_note(merge_note(None, e), entry_from_result(RESULT, "b")).count("## ") == 2


def test_bad_case_name():
    with pytest.raises(BudgetError, match="case name"):
        entry_from_result(RESULT, "../etc/passwd")


def test_result_json_roundtrip():
    assert json.loads(json.dumps(RESULT)) == RESULT
