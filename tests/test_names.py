"""Names that travel into generated files are refused at the input layer when no file could carry them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from budget.files import name_problem, one_line
from tests.conftest import run_cli

BAD = {
    "line break": "local\ncoder",
    "carriage return": "local\rcoder",
    "line separator": "local\u2028coder",
    "next line": "local\x85coder",
    "NUL": "local\x00coder",
    "escape": "local\x1b[31mcoder",
    "bidi override": "local\u202ecoder",
}


@pytest.mark.parametrize("name", BAD.values(), ids=BAD.keys())
def test_a_name_with_a_character_no_file_can_carry_is_refused(name: str):
    assert name_problem(name) is not None
    assert "\n" not in one_line(name) and "\x1b" not in one_line(name) and "\u2028" not in one_line(name)


@pytest.mark.parametrize("name", ["local-coder", "ローカル", "frontier reviewer", "x-failover", 'a "quoted" tier'])
def test_ordinary_names_pass(name: str):
    assert name_problem(name) is None and one_line(name) == name


@pytest.mark.parametrize("where", ["tier", "phase", "declared"])
@pytest.mark.parametrize("name", list(BAD.values())[:3] + ["\x1b]0;title\x07"], ids=["lf", "cr", "u2028", "osc"])
def test_a_spec_naming_a_tier_or_phase_so_is_one_line_exit_1_nothing_written(workdir: Path, where: str, name: str):
    tier, phase = ("t1", "triage")
    if where in ("tier", "declared"):
        tier = name
    else:
        phase = name
    doc = {"daily_budget_tokens": 20, "phases": {phase: {tier: 10, "top": 10}}}
    if where == "declared":
        doc["tiers"] = [tier, "top"]
    (workdir / "specs" / "n.yaml").write_text(json.dumps(doc, ensure_ascii=True), encoding="utf-8")
    for command in (["compile", "--out", "out/p.json"], ["export", "--to", "litellm", "--out", "out/c.yaml"]):
        proc = run_cli([command[0], "--budget-spec", "specs/n.yaml", *command[1:]], workdir)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.count("\n") == 1 and "n.yaml" in proc.stderr
        assert "U+00" in proc.stderr or "U+2028" in proc.stderr
        assert "\x1b" not in proc.stderr and "\r" not in proc.stderr
        assert not (workdir / "out").exists() or not any((workdir / "out").iterdir())


def test_a_spend_log_model_group_or_tag_so_is_refused_naming_the_record(workdir: Path):
    rows = json.loads((workdir / "scenarios" / "samples" / "litellm_spend_logs.json").read_text(encoding="utf-8"))
    rows[3]["model_group"] = "qwen\ncoder"
    (workdir / "bad.json").write_text(json.dumps(rows), encoding="utf-8")
    proc = run_cli(["fit", "--spend-logs", "bad.json", "--out", "out/f.yaml"], workdir)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "record 4" in proc.stderr and "model_group" in proc.stderr and "U+000A" in proc.stderr
    assert not (workdir / "out" / "f.yaml").exists()


def test_fit_writes_a_path_with_a_line_break_as_one_comment_line(workdir: Path):
    odd = workdir / "spend\nlog.json"
    odd.write_bytes((workdir / "scenarios" / "samples" / "litellm_spend_logs.json").read_bytes())
    tiers = "qwen-coder-32b=local-coder,qwen-coder-32b-b=local-coder,gpt-4.1-mini=mid-coder,"
    tiers += "claude-opus=frontier-reviewer"
    spec = "specs/payment_gateway_80_20_mid.yaml"
    args = ["fit", "--spend-logs", odd.name, "--budget-spec", spec, "--tier-map", tiers, "--out", "out/f.yaml"]
    proc = run_cli(args, workdir)
    assert proc.returncode == 0, proc.stderr
    text = (workdir / "out" / "f.yaml").read_text(encoding="utf-8")
    assert [ln for ln in text.splitlines() if ln.startswith("policy:")] == [
        "policy:"
    ] and "spend\\u000alog.json" in text
    assert all(line.startswith(("#", "policy:", " ")) for line in text.splitlines())
