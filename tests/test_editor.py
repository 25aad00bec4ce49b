"""The Spec editor's table and the current spec, without Streamlit."""

from __future__ import annotations

import pytest

from budget.errors import BudgetError
from budget.model import spec_from_text
from budget.workbench import (
    EDITED,
    INVALID,
    SHIPPED,
    CurrentSpec,
    add_phase,
    add_tier,
    apply_edits,
    check_table,
    daily_to_sum,
    delete_phase,
    delete_tier,
    editor_rows,
    rename_phase,
    rename_tier,
    table_from_text,
    table_to_text,
)
from tests.conftest import ROOT

TEN_M = (ROOT / "specs" / "budget_network.yaml").read_text()
MID = (ROOT / "specs" / "payment_gateway_80_20_mid.yaml").read_text()


def test_round_trip_keeps_the_spec_and_the_header_comment():
    table = table_from_text(TEN_M)
    text = table_to_text(table)
    assert text.startswith("# Daily token budget of the SDD incident pipeline")
    a, b = spec_from_text(TEN_M), spec_from_text(text)
    assert (a.daily_budget_tokens, a.phases, a.reserve, a.tiers) == (
        b.daily_budget_tokens,
        b.phases,
        b.reserve,
        b.tiers,
    )
    mid = spec_from_text(table_to_text(table_from_text(MID)))
    assert mid.tiers == ("local-coder", "mid-coder", "frontier-reviewer")
    assert mid.policy.queue_limit == 15 and mid.split is not None


def test_the_textbook_table_checks_clean_with_totals_and_shares():
    check = check_table(table_from_text(TEN_M), "90/10")
    assert check.ok and check.difference == 0
    assert check.tier_totals == {"local-coder": 9_000_000, "frontier-reviewer": 1_000_000}
    assert check.row_totals[0] == 3_120_000  # triage
    assert [(s.tier, round(s.share_pct, 2), s.ok) for s in check.shares] == [
        ("local-coder", 90.0, True),
        ("frontier-reviewer", 10.0, True),
    ]


def test_a_broken_sum_keeps_the_table_and_names_the_difference():
    table = table_from_text(TEN_M)
    edited, notes = apply_edits(table, {"edited_rows": {"0": {"local-coder": 3_500_000}}})
    assert notes == []
    check = check_table(edited)
    assert check.difference == 500_000
    assert "difference +500,000 tokens" in check.problems[0]
    assert len(editor_rows(edited, check)) == 7  # the table is all there
    # moving the 500K out of classification fixes it
    fixed, _ = apply_edits(edited, {"edited_rows": {"1": {"local-coder": 1_500_000}}})
    assert check_table(fixed).ok
    spec = spec_from_text(table_to_text(fixed))
    assert spec.phases["triage"].quotas["local-coder"] == 3_500_000


def test_a_cleared_or_negative_cell_is_marked_not_turned_into_nan():
    table = table_from_text(TEN_M)
    edited, _ = apply_edits(table, {"edited_rows": {"2": {"frontier-reviewer": float("nan"), "local-coder": -5}}})
    check = check_table(edited)
    assert check.cell_issues[(2, "frontier-reviewer")].startswith("empty")
    assert check.cell_issues[(2, "local-coder")] == "-5 is negative"
    assert check.row_note(2).startswith("⚠ local-coder: -5 is negative")
    text = table_to_text(edited)
    assert "nan" not in text
    with pytest.raises(BudgetError, match="phases.diagnosis"):
        spec_from_text(text, "x.yaml")


def test_added_rows_get_a_name_and_go_before_the_reserve():
    table = table_from_text(TEN_M)
    edited, _ = apply_edits(table, {"added_rows": [{"local-coder": 100_000}, {"phase": "audit"}]})
    assert edited.names()[-3:] == ["new_phase", "audit", "control_reserve"]
    assert edited.rows[-3].quotas == {"local-coder": 100_000, "frontier-reviewer": 0}
    assert "phases.nan" not in table_to_text(edited)


def test_renames_to_an_existing_or_empty_name_are_refused():
    table = table_from_text(TEN_M)
    edited, notes = apply_edits(table, {"edited_rows": {"0": {"phase": "plan"}, "1": {"phase": ""}}})
    assert edited.names() == table.names()
    assert len(notes) == 2 and "that phase exists" in notes[0]


def test_phase_and_tier_operations():
    table = table_from_text(TEN_M)
    t = add_phase(table, "audit", "5m")
    assert t.names()[-2:] == ["audit", "control_reserve"]
    t = rename_phase(t, "audit", "review")
    t = delete_phase(t, "postmortem")
    assert "postmortem" not in t.names() and "review" in t.names()
    t = add_tier(t, "mid-coder")
    assert t.tiers == ("local-coder", "mid-coder", "frontier-reviewer")
    t = rename_tier(t, "mid-coder", "middle")
    assert all("middle" in r.quotas for r in t.rows)
    spec = spec_from_text(table_to_text(daily_to_sum(t)))
    assert spec.tiers == ("local-coder", "middle", "frontier-reviewer")
    t = delete_tier(t, "middle")
    assert t.tiers == ("local-coder", "frontier-reviewer")
    with pytest.raises(BudgetError, match="exists"):
        add_phase(table, "triage")
    with pytest.raises(BudgetError, match="use letters"):
        add_tier(table, "control_reserve")
    with pytest.raises(BudgetError, match="at least one tier"):
        delete_tier(delete_tier(table, "frontier-reviewer"), "local-coder")


def test_split_targets_and_a_bad_split():
    check = check_table(table_from_text(MID), "80/20")
    assert [s.tier for s in check.shares] == ["local-coder+mid-coder", "frontier-reviewer"]
    assert all(s.ok for s in check.shares)
    bad = check_table(table_from_text(TEN_M), "80/30")
    assert bad.split_error and "add up to 100" in bad.split_error


def test_text_that_is_not_a_mapping_is_refused_in_one_line():
    with pytest.raises(BudgetError, match="must be a mapping"):
        table_from_text("- a\n- b\n", "x.yaml")
    with pytest.raises(BudgetError, match="not valid YAML"):
        table_from_text("phases: {", "x.yaml")


def test_current_spec_states_undo_and_reset():
    cur = CurrentSpec("budget_network.yaml", TEN_M)
    assert cur.state == SHIPPED and cur.path == "specs/budget_network.yaml"
    cur.edit(TEN_M.replace("10000000", "5000000"))
    assert cur.state == INVALID and "quota sum 10,000,000" in (cur.error or "")
    cur.edit(TEN_M.replace("3000000", "3000001").replace("10000000", "10000001"))
    assert cur.state == EDITED and cur.path is None and cur.spec is not None
    assert cur.undo() and cur.state == INVALID
    assert cur.reset() and cur.state == SHIPPED
    assert cur.undo() and cur.state == INVALID  # a reset can be undone too
    choice = cur.choice
    cur.load("budget_network_5m.yaml", (ROOT / "specs" / "budget_network_5m.yaml").read_text())
    assert cur.choice == choice + 1 and cur.spec is not None and cur.spec.daily_budget_tokens == 5_000_000
    assert cur.undo() and cur.name == "budget_network.yaml" and cur.state == INVALID
    assert "budget_network.yaml (shipped file) · invalid" == cur.label()
