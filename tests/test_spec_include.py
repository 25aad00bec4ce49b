"""A spec includes a policy fragment: the fragment's entries are defaults, the spec's own win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.errors import BudgetError
from budget.model import load_plan, load_spec, plan_json
from tests.conftest import ROOT, run_cli

# the payment plan's phases under a policy block of its own (three workload entries, none the fragment sets)
PAYMENT = (ROOT / "specs" / "payment_gateway_80_20_mid.yaml").read_text().split("\npolicy:")[0] + (
    "\npolicy:\n  tokens_per_incident: 45000\n  rework_per_min: 0.1\n  queue_limit: 15\n"
)
FRAGMENT = """policy:
  tokens_per_incident: 40000
  review_share: 0.12
  disputed_share: 0.2
  capacity_tpm:
    local-coder: 60000
    mid-coder: 20000
    frontier-reviewer: 9000
  phase_shares: {triage: 0.4, classification: 0.27, diagnosis: 0.13, plan: 0.07, remediation: 0.09, postmortem: 0.04}
"""


def _spec(folder: Path, include: str, text: str = PAYMENT, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(f"include: {include}\n" + text)
    return path


def test_fragment_entries_are_defaults_and_the_specs_own_win(tmp_path: Path):
    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "fit.yaml").write_text(FRAGMENT)
    spec = load_spec(_spec(tmp_path, "fit/fit.yaml"))
    p = spec.policy
    assert p.tokens_per_incident == 45000  # the spec's own policy: names it
    assert p.rework_per_min == 0.1 and p.queue_limit == 15  # the spec's own
    assert p.review_share == 0.12 and p.disputed_share == 0.2  # from the fragment
    assert p.capacity_tpm == {"local-coder": 60000, "mid-coder": 20000, "frontier-reviewer": 9000}
    assert p.phase_shares["triage"] == 0.4
    assert spec.policy_declared


def test_a_spec_without_a_policy_block_takes_the_whole_fragment(tmp_path: Path):
    (tmp_path / "fit.yaml").write_text(FRAGMENT)
    own = PAYMENT.split("\npolicy:")[0] + "\n"
    spec = load_spec(_spec(tmp_path, "fit.yaml", own))
    assert spec.policy.tokens_per_incident == 40000 and spec.policy_declared


def test_the_plan_carries_the_merged_policy(tmp_path: Path):
    (tmp_path / "fit.yaml").write_text(FRAGMENT)
    spec = load_spec(_spec(tmp_path, "fit.yaml"))
    plan = tmp_path / "elsewhere" / "plan.json"
    plan.parent.mkdir()
    plan.write_text(plan_json(spec))
    data = json.loads(plan.read_text())
    assert "include" not in data
    assert data["policy"]["disputed_share"] == 0.2 and data["policy"]["tokens_per_incident"] == 45000
    assert load_plan(plan).policy == spec.policy  # simulate --plan reads the same constants


def test_compile_and_drill_run_on_a_spec_with_an_include(workdir: Path):
    (workdir / "specs" / "fit.yaml").write_text(FRAGMENT)
    _spec(workdir / "specs", "fit.yaml", name="fitted.yaml")
    proc = run_cli(["compile", "--budget-spec", "specs/fitted.yaml", "--out", "out/plan.json"], workdir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((workdir / "out" / "plan.json").read_text())["policy"]["capacity_tpm"]["mid-coder"] == 20000
    drill = ["drill", "--plan", "out/plan.json", "--alerts", "scenarios/alerts_day_800.jsonl", "--outages", "15"]
    proc = run_cli([*drill, "--out", "out/drill.json"], workdir)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and (workdir / "out" / "drill.json").exists()


@pytest.mark.parametrize(
    "fragment, pattern",
    [
        (None, r"spec\.yaml:1: include: no such policy fragment .*missing\.yaml"),
        ("policy:\n  review_share: 2\n", r"frag\.yaml:2: policy\.review_share: .*less than or equal to 1"),
        ("policy:\n  capacity_tpm: {gpu-coder: 5}\n", r"frag\.yaml:2: policy\.capacity_tpm\.gpu-coder: unknown tier"),
        ("policy:\n  phase_shares: {triage: 1.0, lunch: 0.0}\n", r"frag\.yaml:2: policy\.phase_shares\.lunch: unknown"),
        ("daily_budget_tokens: 5\npolicy: {}\n", r"frag\.yaml:1: daily_budget_tokens: a policy fragment holds only"),
        ("include: spec.yaml\npolicy: {}\n", r"frag\.yaml:1: include: a policy fragment cannot include another"),
        ("- policy\n", r"frag\.yaml: a policy fragment must be a mapping"),
        ("policy: 3\n", r"frag\.yaml:1: policy: must be a mapping"),
    ],
)
def test_bad_fragments_name_the_fragment(tmp_path: Path, fragment, pattern):
    if fragment is not None:
        (tmp_path / "frag.yaml").write_text(fragment)
    spec = _spec(tmp_path, "frag.yaml" if fragment is not None else "missing.yaml")
    with pytest.raises(BudgetError, match=pattern):
        load_spec(spec)


def test_include_loops_are_refused(tmp_path: Path):
    with pytest.raises(BudgetError, match=r"include loop: spec\.yaml is this spec itself"):
        load_spec(_spec(tmp_path, "spec.yaml"))
    (tmp_path / "a.yaml").write_text("include: b.yaml\npolicy: {}\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\npolicy: {}\n")
    with pytest.raises(BudgetError, match=r"a\.yaml:1: include: a policy fragment cannot include"):
        load_spec(_spec(tmp_path, "a.yaml"))


def test_include_must_be_a_path(tmp_path: Path):
    with pytest.raises(BudgetError, match=r"spec\.yaml:1: include: must be the path of a policy fragment"):
        load_spec(_spec(tmp_path, "[a, b]"))


def test_cli_compile_of_a_bad_include_is_one_line_and_writes_nothing(workdir: Path):
    _spec(workdir / "specs", "nope.yaml", name="bad.yaml")
    proc = run_cli(["compile", "--budget-spec", "specs/bad.yaml", "--out", "out/plan.json"], workdir)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "include: no such policy fragment" in proc.stderr
    assert not (workdir / "out" / "plan.json").exists()
