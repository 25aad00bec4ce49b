from __future__ import annotations

from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.model import load_spec, parse_split, plan_json, proportion_check, scale_spec, spec_from_text
from tests.conftest import REFERENCE, ROOT

TEXTBOOK = (ROOT / "specs" / "budget_network.yaml").read_text()


def test_textbook_spec_totals():
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    assert spec.daily_budget_tokens == 10_000_000
    assert spec.tier_total("local-coder") == 9_000_000
    assert spec.tier_total("frontier-reviewer") == 1_000_000
    assert spec.tiers == ("local-coder", "frontier-reviewer")
    assert "control_reserve" not in spec.phases
    assert spec.reserve == {"local-coder": 700_000, "frontier-reviewer": 0}
    assert spec.phases["postmortem"].sla_seconds == 600


@pytest.mark.parametrize("name", ["budget_network.yaml", "budget_network_5m.yaml", "budget_network.template.yaml"])
def test_reference_specs_load_as_they_are(name):
    path = REFERENCE / "specs" / name
    if not path.exists():
        pytest.skip("shared/reference not beside the checkout")
    assert (ROOT / "specs" / name).read_bytes() == path.read_bytes()
    spec = load_spec(path)
    assert spec.quota_sum() == spec.daily_budget_tokens


def test_compiled_plan_is_the_textbook_example_byte_for_byte():
    expected = (ROOT / "specs" / "reference" / "budget_plan.example.json").read_text()
    assert plan_json(load_spec(ROOT / "specs" / "budget_network.yaml")) == expected


def test_golden_plan_matches_the_reference_copy():
    ref = REFERENCE / "outputs" / "budget_plan.example.json"
    if not ref.exists():
        pytest.skip("shared/reference not beside the checkout")
    assert (ROOT / "specs" / "reference" / "budget_plan.example.json").read_bytes() == ref.read_bytes()


def test_only_daily_changed_to_5m_fails_with_a_sum_error():
    text = TEXTBOOK.replace("daily_budget_tokens: 10000000", "daily_budget_tokens: 5000000")
    with pytest.raises(
        BudgetError,
        match=r"x\.yaml:4: daily_budget_tokens: quota sum 10,000,000 does not equal "
        r"daily_budget_tokens 5,000,000 \(difference \+5,000,000\)",
    ):
        spec_from_text(text, "x.yaml")


def test_negative_quota_names_file_line_and_field():
    text = TEXTBOOK.replace("local-coder: 800000", "local-coder: -5")
    with pytest.raises(
        BudgetError, match=r"^x\.yaml:20: phases\.plan\.local-coder: must be a non-negative integer, got -5$"
    ):
        spec_from_text(text, "x.yaml")


def test_wrong_type_quota():
    text = TEXTBOOK.replace("frontier-reviewer: 140000", "frontier-reviewer: lots")
    with pytest.raises(BudgetError, match=r"phases\.classification\.frontier-reviewer: must be a non-negative integer"):
        spec_from_text(text, "x.yaml")


def test_unknown_tier_in_a_later_phase():
    text = TEXTBOOK.replace("    local-coder: 1500000", "    local-codr: 1500000")
    with pytest.raises(BudgetError, match=r"x\.yaml:16: phases\.diagnosis\.local-codr: unknown field or tier"):
        spec_from_text(text, "x.yaml")


PHASE_FIELDS = (
    r"\(a phase's fields: sla_p95; the plan's tiers, as its first phase names them: local-coder, frontier-reviewer\)$"
)


@pytest.mark.parametrize(
    "line", ["    sla_p95: 30s", "    sla_p95: 90s"]
)  # the first phase (its keys name the tiers), a later one
def test_a_misspelt_phase_field_is_unknown_not_a_tier_quota(line):
    text = TEXTBOOK.replace(line, line.replace("sla_p95", "sla_p59"))
    row = text.splitlines().index(line.replace("sla_p95", "sla_p59")) + 1
    _refused_as_misspelt(text, row, "triage" if "30s" in line else "diagnosis")


def test_a_field_misspelt_in_every_phase_is_unknown_not_a_tier():
    """sla_p59 in every phase is named by every phase, yet its value is a duration: no tier's quota."""
    text = TEXTBOOK.replace("sla_p95", "sla_p59")
    row = next(i for i, ln in enumerate(text.splitlines(), 1) if "sla_p59" in ln)
    _refused_as_misspelt(text, row, "triage")


def test_a_tier_whose_first_quota_reads_as_a_duration_is_still_a_tier():
    """local-coder: 30s in the first phase (numbers in the others) is a tier with a wrong quota, not a field."""
    text = TEXTBOOK.replace("local-coder: 3000000", "local-coder: 30s", 1)
    with pytest.raises(
        BudgetError, match=r"^x\.yaml:8: phases\.triage\.local-coder: must be a non-negative integer number of tokens"
    ):
        spec_from_text(text, "x.yaml")


def _refused_as_misspelt(text: str, row: int, phase: str) -> None:
    """``text`` is refused at ``row``: its phase's sla_p59 is an unknown field, close to sla_p95."""
    with pytest.raises(
        BudgetError,
        match=rf"^x\.yaml:{row}: phases\.{phase}\.sla_p59: unknown field or tier, did you mean sla_p95\? "
        + PHASE_FIELDS,
    ):
        spec_from_text(text, "x.yaml")


def test_unknown_keys_name_the_declared_tiers_and_the_reserve_s_own_rule():
    declared = TEXTBOOK.replace("phases:", "tiers: [local-coder, frontier-reviewer]\nphases:", 1)
    with pytest.raises(BudgetError, match=r"triage\.sla_p59: unknown field or tier.*as its tiers: list declares them"):
        spec_from_text(declared.replace("sla_p95: 30s", "sla_p59: 30s"), "x.yaml")
    reserve = TEXTBOOK.replace("    frontier-reviewer: 0", "    sla_p59: 0")
    with pytest.raises(BudgetError, match=r"control_reserve\.sla_p59: unknown tier \(control_reserve holds only tier"):
        spec_from_text(reserve, "x.yaml")


def test_a_first_phase_tier_with_a_wrong_quota_is_still_a_tier():
    text = TEXTBOOK.replace("frontier-reviewer: 120000", "frontier-reviewer: lots", 1)
    with pytest.raises(
        BudgetError, match=r"x\.yaml:9: phases\.triage\.frontier-reviewer: must be a non-negative integer"
    ):
        spec_from_text(text, "x.yaml")
    quoted = TEXTBOOK.replace("local-coder: 3000000", "local-coder: '3000000'")
    with pytest.raises(BudgetError, match=r"triage\.local-coder: must be a non-negative integer number of tokens"):
        spec_from_text(quoted, "x.yaml")


def test_sla_forms():
    text = TEXTBOOK.replace("sla_p95: 30s", "sla_p95: 30").replace("sla_p95: 10m", "sla_p95: 2h")
    spec = spec_from_text(text)
    assert spec.phases["triage"].sla_p95 == "30s"
    assert spec.phases["postmortem"].sla_seconds == 7200
    with pytest.raises(BudgetError, match=r"phases\.triage\.sla_p95: must be a duration"):
        spec_from_text(TEXTBOOK.replace("sla_p95: 30s", "sla_p95: soon"))


def test_empty_and_not_yaml(tmp_path: Path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(BudgetError, match=r"empty\.yaml: file is empty"):
        load_spec(empty)
    bad = tmp_path / "bad.yaml"
    bad.write_text("daily_budget_tokens: [1, 2\nphases: {")
    with pytest.raises(BudgetError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_spec(bad)
    with pytest.raises(BudgetError, match=r"missing\.yaml: no such file"):
        load_spec(tmp_path / "missing.yaml")


def test_yaml_alias_bomb_is_refused_without_expanding():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    with pytest.raises(BudgetError, match=r"bomb\.yaml:2: not valid YAML: YAML aliases \(\*name\) are not allowed"):
        spec_from_text(bomb, "bomb.yaml")


def test_policy_block_overrides_and_rejects_unknown_constants():
    spec = spec_from_text(TEXTBOOK + "policy:\n  alert_threshold: 0.65\n")
    assert spec.policy.alert_threshold == 0.65
    with pytest.raises(BudgetError, match=r"x\.yaml:\d+: policy\.alert_treshold: Extra inputs are not permitted"):
        spec_from_text(TEXTBOOK + "policy:\n  alert_treshold: 0.65\n", "x.yaml")


def test_any_number_of_tiers_in_cost_order():
    text = """
daily_budget_tokens: 100
phases:
  triage: {local-coder: 50, mid-coder: 10, frontier-reviewer: 5, sla_p95: 30s}
  diagnosis: {local-coder: 10, mid-coder: 20, frontier-reviewer: 5, sla_p95: 90s}
"""
    spec = spec_from_text(text)
    assert spec.tiers == ("local-coder", "mid-coder", "frontier-reviewer")
    assert spec.cheapest == "local-coder" and spec.most_expensive == "frontier-reviewer"


def test_proportion_check():
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    ok = proportion_check(spec, parse_split("90/10", spec.tiers))
    assert [c.ok for c in ok] == [True, True]
    bad = proportion_check(spec, parse_split("80/20", spec.tiers))
    assert [c.ok for c in bad] == [False, False]
    with pytest.raises(BudgetError, match="has 3 parts but the spec has 2 tiers"):
        parse_split("80/10/10", spec.tiers)


def test_scaling_keeps_proportions():
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    half = scale_spec(spec, 0.5)
    assert half.daily_budget_tokens == 5_000_000
    assert half.tier_total("frontier-reviewer") == 500_000
