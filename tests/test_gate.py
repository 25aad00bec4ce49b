"""The anti-Goodhart gateway on our own simulations, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.errors import QueryError
from budget.gateway import checks_from_text, rules_from_text, run, validate
from budget.keeper import simulate
from budget.model import load_scenario, load_spec
from tests.conftest import REFERENCE, ROOT, run_cli

GATE = ROOT / "specs" / "validation" / "budget_gate.yaml"
SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")
SC = load_scenario(ROOT / "scenarios" / "fail_local_45m.json", SPEC)


def failed(result: dict) -> list[str]:
    checks = checks_from_text(GATE.read_text(), "gate.yaml")
    return [cid for rep in validate(checks, result) for cid in rep.failed]


def test_shipped_copy_of_the_chapters_gate_is_byte_for_byte():
    ref = REFERENCE / "validation" / "budget_gate.yaml"
    if not ref.exists():
        pytest.skip("shared/reference not beside the checkout")
    assert (ROOT / "specs" / "reference" / "budget_gate.yaml").read_bytes() == ref.read_bytes()


def test_gate_keeps_the_chapters_checks_and_adds_mid_tier_saturation():
    chapter = checks_from_text((ROOT / "specs" / "reference" / "budget_gate.yaml").read_text(), "chapter.yaml")
    ours = checks_from_text(GATE.read_text(), "gate.yaml")
    assert ours[: len(chapter)] == chapter
    extra = ours[len(chapter) :]
    assert [c.id for c in extra] == ["mid_tier_saturation"]
    assert extra[0].fail_if == ("mid_tier_saturation > 0.90",)


def test_saturated_middle_tier_fails_the_gate():
    base = simulate(SPEC, SC).to_dict()
    assert base["mid_tier_saturation"] == 0 and failed(base) == []
    assert failed({**base, "mid_tier_saturation": 0.95}) == ["mid_tier_saturation"]
    assert failed({**base, "mid_tier_saturation": 0.5}) == []


def test_ranked_plan_passes_and_goodhart_variant_fails_on_silent_p0():
    assert failed(simulate(SPEC, SC).to_dict()) == []
    goodhart = simulate(SPEC, SC, routing="close_silently").to_dict()
    assert goodhart["mttr_p95"] < 300 and goodhart["escalation_ratio"] < 0.08
    assert goodhart["silent_p0"] > 0.02
    assert failed(goodhart) == ["anti_goodhart_budget"]


def test_drill_result_checks_each_outage(workdir: Path):
    run_cli(
        [
            "drill",
            "--budget-spec",
            "specs/budget_network.yaml",
            "--alerts",
            "scenarios/alerts_day_800.jsonl",
            "--outages",
            "15,30",
            "--out",
            "out/d.json",
        ],
        workdir,
    )
    proc = run_cli(
        ["validate", "--validation", "specs/validation/budget_gate.yaml", "--metrics", "out/d.json"], workdir
    )
    assert "[outage 15m] check anti_goodhart_budget" in proc.stdout and "[outage 30m] check ecology_warn" in proc.stdout


@pytest.mark.parametrize(
    "text, message",
    [
        ("checks: []\n", r"checks: is empty"),
        (
            "checks:\n  - id: a\n    if:\n      all:\n        - mttr_p95 =~ 5\n"
            "    then:\n      fail_if: [silent_p0 > 0]\n",
            r"gate\.yaml:5: checks\.0\.if\.all\[0\] 'mttr_p95 =~ 5': column 10: unexpected character",
        ),
        (
            "checks:\n  - id: a\n    if: {sometimes: [x > 1]}\n    then: {fail_if: [x > 1]}\n",
            r"must hold exactly one of",
        ),
        ("checks:\n  - id: a\n    if: {all: [x > 1]}\n    then: {}\n", r"needs fail_if and/or require"),
    ],
)
def test_bad_validation_files(text, message):
    with pytest.raises(QueryError, match=message):
        checks_from_text(text, "gate.yaml")


def test_a_misspelled_metric_is_an_error_not_silently_true():
    checks = checks_from_text(
        "checks:\n  - id: a\n    if: {all: [mttr_p95 < 5m]}\n    then: {fail_if: [silnt_p0 > 0]}\n"
    )
    with pytest.raises(QueryError, match=r"metric 'silnt_p0' in 'silnt_p0 > 0' is not in the input"):
        validate(checks, simulate(SPEC, SC).to_dict())


def test_validate_cli_exit_codes(workdir: Path, tmp_path: Path):
    run_cli(
        [
            "simulate",
            "--plan",
            "specs/budget_network.yaml",
            "--scenario",
            "scenarios/fail_local_45m.json",
            "--out",
            "out/r.json",
        ],
        workdir,
    )
    run_cli(
        [
            "simulate",
            "--plan",
            "specs/budget_network.yaml",
            "--scenario",
            "scenarios/fail_local_45m.json",
            "--policy",
            "close_silently",
            "--out",
            "out/g.json",
        ],
        workdir,
    )
    gate = str(GATE)
    assert run_cli(["validate", "--validation", gate, "--metrics", "out/r.json"], workdir).returncode == 0
    bad = run_cli(["validate", "--validation", gate, "--metrics", "out/g.json"], workdir)
    assert bad.returncode == 1 and "FAIL: anti_goodhart_budget" in bad.stdout
    (workdir / "m.json").write_text('{"mttr_p95": 100}')
    missing = run_cli(["validate", "--validation", gate, "--metrics", "m.json"], workdir)
    assert missing.returncode == 2 and "not in the input" in missing.stderr
    (workdir / "empty.yaml").write_text("checks: []\n")
    empty = run_cli(["validate", "--validation", "empty.yaml", "--metrics", "out/r.json"], workdir)
    assert empty.returncode == 2 and "is empty" in empty.stderr


def test_validate_json_in_the_chapters_format(workdir: Path):
    run_cli(
        ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_45m.json",
         "--policy", "close_silently", "--out", "out/g.json"],
        workdir,
    )  # fmt: skip
    proc = run_cli(["validate", "--validation", str(GATE), "--metrics", "out/g.json", "--json"], workdir)
    assert proc.returncode == 1
    v = json.loads(proc.stdout)
    assert (v["format"], v["verdict"], v["failed"][0]["name"]) == ("chapter", "fail", "anti_goodhart_budget")
    check = v["targets"][0]["items"][0]
    assert check["activated"] is True
    assert {"condition": "silent_p0 > 0.02", "actual": 1.0, "holds": True} in check["fail_if"]


def test_a_duration_in_the_gates_lines_shows_its_unit():
    gate = """checks:
  - id: fast_enough
    if:
      all:
        - degraded_queue > 0
    then:
      fail_if:
        - mttr_p95 > "5m"
"""
    verdict = run(rules_from_text(gate, "g.yaml"), {"degraded_queue": 15, "mttr_p95": 840})
    assert verdict.lines() == [
        "g.yaml: the chapter's format, 1 check",
        "check fast_enough: FAIL",
        "    if   true   degraded_queue > 0  (actual 15)",
        '    fail_if FAIL  mttr_p95 > "5m"  (actual 840 s (14.0 min))',
        "FAIL: fast_enough (result)",
    ]


def test_a_condition_of_an_idle_check_says_it_is_not_applied():
    """A check whose if is false fails nothing: a fail_if that holds, or a require that does not, says so."""
    gate = """checks:
  - id: busy
    if:
      all:
        - degraded_queue > 100
    then:
      fail_if:
        - token_health_min < 0.60
      require:
        - red_button_review == true
"""
    verdict = run(
        rules_from_text(gate, "g.yaml"), {"degraded_queue": 15, "token_health_min": 0.5, "red_button_review": False}
    )
    assert verdict.lines() == [
        "g.yaml: the chapter's format, 1 check",
        "check busy: not activated",
        "    if   false  degraded_queue > 100  (actual 15)",
        "    fail_if true  token_health_min < 0.60  (actual 0.5; not applied: the check is not activated)",
        "    require miss  red_button_review == true  (actual false; not applied: the check is not activated)",
        "PASS: 1 evaluated, none failed",
    ]
