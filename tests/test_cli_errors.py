"""Bad input: one clear line, exit 1 or 2, no traceback, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

SIM = ["simulate", "--plan", "specs/budget_network.yaml", "--out", "out/r.json"]


def _scenario(workdir: Path, data: object, name: str = "s.json") -> str:
    (workdir / name).write_text(data if isinstance(data, str) else json.dumps(data))
    return name


def check(proc, code: int, pattern: str):
    import re

    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines and re.search(pattern, lines[-1]), proc.stderr
    if code == 1:
        assert len(lines) == 1, proc.stderr


BASE = {"down_tier": "local-coder", "start": "11:00", "duration_min": 45, "queue": 20, "manual_timeout_sec": 120}


@pytest.mark.parametrize(
    "change, pattern",
    [
        ({"queue": -3}, r"s\.json:\d+: queue: must be between 0 and"),
        ({"duration_min": 0}, r"duration_min: must be between 1 and 1440"),
        ({"duration_min": 14400}, r"duration_min: must be between 1 and 1440 minutes \(one day\), got 14400"),
        ({"start": "25:99"}, r"start: must be a time of day HH:MM"),
        ({"down_tier": "local-codr"}, r"down_tier: unknown tier 'local-codr'"),
        ({"queue": "twenty"}, r"queue: Input should be a valid integer"),
        ({"policy": "yolo"}, r"unknown routing policy 'yolo'"),
        ({"surprise": 1}, r"surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_scenarios(workdir: Path, change, pattern):
    name = _scenario(workdir, {**BASE, **change})
    proc = run_cli([*SIM, "--scenario", name], workdir)
    check(proc, 1, pattern)
    assert not (workdir / "out" / "r.json").exists()


def test_scenario_not_json(workdir: Path):
    name = _scenario(workdir, '{"queue": 20,,}')
    check(run_cli([*SIM, "--scenario", name], workdir), 1, r"s\.json:1: not valid JSON")


def test_missing_files(workdir: Path):
    check(run_cli([*SIM, "--scenario", "nope.json"], workdir), 1, r"nope\.json: no such file")
    check(
        run_cli(["compile", "--budget-spec", "nope.yaml", "--out", "out/p.json"], workdir),
        1,
        r"nope\.yaml: no such file",
    )


def test_sum_mismatch_writes_nothing_and_keeps_an_old_plan(workdir: Path):
    spec = (workdir / "specs" / "budget_network.yaml").read_text().replace("10000000", "5000000")
    (workdir / "specs" / "bad.yaml").write_text(spec)
    (workdir / "out").mkdir()
    (workdir / "out" / "p.json").write_text("previous plan\n")
    proc = run_cli(["compile", "--budget-spec", "specs/bad.yaml", "--out", "out/p.json"], workdir)
    check(proc, 1, r"specs/bad\.yaml:4: daily_budget_tokens: quota sum 10,000,000 does not equal")
    assert (workdir / "out" / "p.json").read_text() == "previous plan\n"


def test_alias_bomb_and_wrong_types(workdir: Path):
    (workdir / "bomb.yaml").write_text("a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" * 1)
    check(run_cli(["compile", "--budget-spec", "bomb.yaml", "--out", "o.json"], workdir), 1, r"aliases .* not allowed")
    (workdir / "list.yaml").write_text("- 1\n- 2\n")
    check(run_cli(["compile", "--budget-spec", "list.yaml", "--out", "o.json"], workdir), 1, r"must be a mapping")
    assert not (workdir / "o.json").exists()


def test_proportion_check_failure_exits_1(workdir: Path):
    proc = run_cli(
        ["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/p.json", "--expect-split", "80/20"],
        workdir,
    )
    assert proc.returncode == 1
    assert "vs target 80/20 ±1 pt: FAIL" in proc.stdout


def test_usage_errors_exit_2(workdir: Path):
    check(run_cli(["simulate", "--plan"], workdir), 2, r"usage error")
    check(run_cli(["frobnicate"], workdir), 2, r"usage error")
    check(run_cli([*SIM, "--scenario", "scenarios/fail_local_45m.json", "--policy", "yolo"], workdir), 2, "usage error")


def test_malformed_query_and_unknown_field_exit_2(workdir: Path):
    run_cli([*SIM, "--scenario", "scenarios/fail_local_45m.json"], workdir)
    check(run_cli(["inspect", "--result", "out/r.json", "--query", "token_health_min >= "], workdir), 2, "column 21")
    check(
        run_cli(["inspect", "--result", "out/r.json", "--query", "tokn_health_min>1"], workdir),
        2,
        "did you mean 'token_health_min'",
    )


def usage_error(proc, flag: str, pattern: str) -> None:
    """Exit 2, one line on stderr that names the flag and says what is wrong, nothing on standard output."""
    import re

    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and re.search(pattern, lines[0]), proc.stderr
    assert proc.stdout == ""


FAIL = [*SIM, "--queue", "20", "--failure"]
DRILL = ["drill", "--budget-spec", "specs/budget_network.yaml", "--alerts", "scenarios/alerts_day_800.jsonl"]
CALIBRATE = ["calibrate", "--budget-spec", "specs/budget_network.yaml", "--alerts", "scenarios/alerts_day_800.jsonl"]


@pytest.mark.parametrize(
    "argv, flag, pattern",
    [
        ([*FAIL, "11:00,local-coder,down,45x"], "--failure", r"duration: must be a duration like 30s.*got '45x'"),
        ([*FAIL, "25:00,local-coder,down,45"], "--failure", r"start: must be a time of day HH:MM.*got '25:00'"),
        ([*FAIL, "11:00,local-coder,up,45m"], "--failure", "must look like"),
        ([*FAIL, "11:00,local-coder,down,0m"], "--failure", "whole minutes from 1 to 1440"),
        ([*FAIL, "11:00,local-coder,down,90s"], "--failure", "whole minutes from 1 to 1440"),
        ([*FAIL, "11:00,local-coder,down,2000m"], "--failure", "whole minutes from 1 to 1440"),
        (
            [*FAIL, "11:00,local-codr,down,45m"],
            "--failure",
            r"unknown tier 'local-codr' \(the plan's tiers: local-coder",
        ),
        ([*SIM, "--queue", "20000"], "--queue", "from 0 to 10000"),
        ([*DRILL, "--out", "out/d.json", "--start", "25:00"], "--start", "must be a time of day HH:MM"),
        ([*DRILL, "--out", "out/d.json", "--start", "11"], "--start", "must be a time of day HH:MM"),
        ([*DRILL, "--out", "out/d.json", "--down-tier", "gpu"], "--down-tier", "unknown tier 'gpu'"),
        ([*DRILL, "--out", "out/d.json", "--outages", "15,abc"], "--outages", "whole minutes"),
        ([*CALIBRATE, "--out", "out/c.yaml", "--csv", "out/c.csv", "--start", "24:00"], "--start", "HH:MM"),
        ([*CALIBRATE, "--out", "out/c.yaml", "--csv", "out/c.csv", "--targets", "15:2"], "--targets", "floor 0-1"),
        (
            ["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/p.json", "--expect-split", "90/1x"],
            "--expect-split",
            "must be percentages like 90/10",
        ),
        (
            ["assert", "--budget-spec", "specs/budget_network.yaml", "--expect-split", "90/1x"],
            "--expect-split",
            "must be percentages like 90/10",
        ),
        (
            ["assert", "--budget-spec", "specs/budget_network.yaml", "--expect-split", "90/5/5"],
            "--expect-split",
            "has 3 parts but the spec has 2 tiers",
        ),
        (
            ["assert", "--budget-spec", "specs/budget_network.yaml", "--expect-split", "90/20"],
            "--expect-split",
            "add up to 100",
        ),
        (
            ["fit", "--spend-logs", "scenarios/samples/litellm_spend_logs.json", "--out", "out/f.yaml", "--tiers", ","],
            "--tiers",
            "give the tiers' names",
        ),
    ],
)
def test_a_malformed_or_out_of_range_flag_value_is_a_usage_error(workdir: Path, argv, flag, pattern):
    usage_error(run_cli(argv, workdir), flag, pattern)
    assert not (workdir / "out").exists() or not any((workdir / "out").iterdir())


@pytest.mark.parametrize(
    "flags, flag, pattern",
    [
        (["--case", "a b/c#"], "--case", r"case name 'a b/c#': use letters, digits"),
        (["--case", ""], "--case", "case name ''"),
        (["--case", "x", "--risk", "r" * 2001], "--risk", "over the limit of 2,000"),
        (["--case", "x", "--decision", "stop\x1b[2J"], "--decision", "control character U\\+001B"),
        (["--case", "x", "--alert-threshold", "1.5"], "--alert-threshold", "from 0 to 1"),
    ],
)
def test_note_flags_are_usage_errors_and_a_bad_result_is_invalid_input(workdir: Path, flags, flag, pattern):
    run_cli([*SIM, "--scenario", "scenarios/fail_local_45m.json"], workdir)
    usage_error(run_cli(["note", "--result", "out/r.json", "--out", "out/n.md", *flags], workdir), flag, pattern)
    assert not (workdir / "out" / "n.md").exists()
    (workdir / "bad.json").write_text('{"token_health_min": 2, "failover_to_frontier": 1, "degraded_queue": 0}')
    proc = run_cli(["note", "--result", "bad.json", "--out", "out/n.md", "--case", "x"], workdir)
    check(proc, 1, r"bad\.json: token_health_min: must be a number from 0 to 1")


def test_a_flag_value_is_checked_before_the_files_it_goes_with(workdir: Path):
    (workdir / "broken.yaml").write_text("daily_budget_tokens: 10\nphases: {}\n")
    usage_error(
        run_cli([*SIM[:2], "broken.yaml", *SIM[3:], "--queue", "20", "--failure", "25:00,x,down,45m"], workdir),
        "--failure",
        "HH:MM",
    )
    argv = ["compile", "--budget-spec", "broken.yaml", "--out", "out/p.json", "--expect-split", "90/1x"]
    usage_error(run_cli(argv, workdir), "--expect-split", "percentages")
    usage_error(run_cli(["assert", "--budget-spec", "broken.yaml", "--expect-split", "ninety"], workdir), "--", "90/10")


def test_an_invalid_file_named_by_a_flag_stays_exit_1(workdir: Path):
    (workdir / "broken.yaml").write_text("daily_budget_tokens: 10\nphases: {}\n")
    check(run_cli([*SIM[:2], "broken.yaml", *SIM[3:], "--queue", "20"], workdir), 1, r"broken\.yaml:2: phases")
    proc = run_cli(["assert", "--budget-spec", "broken.yaml", "--expect-split", "90/10"], workdir)
    assert proc.returncode == 1 and "broken.yaml:2: phases" in proc.stdout
    name = _scenario(workdir, {**BASE, "start": "25:00"})
    check(run_cli([*SIM, "--scenario", name], workdir), 1, r"s\.json:\d+: start: must be a time of day")


def test_a_misspelt_phase_field_says_unknown_field_or_tier(workdir: Path):
    text = (workdir / "specs" / "budget_network.yaml").read_text().replace("sla_p95: 30s", "sla_p59: 30s")
    (workdir / "typo.yaml").write_text(text)
    proc = run_cli(["compile", "--budget-spec", "typo.yaml", "--out", "out/p.json"], workdir)
    check(
        proc,
        1,
        r"^budget: error: typo\.yaml:10: phases\.triage\.sla_p59: unknown field or tier, did you mean sla_p95\? "
        r"\(a phase's fields: sla_p95; "
        r"the plan's tiers, as its first phase names them: local-coder, frontier-reviewer\)$",
    )
    assert not (workdir / "out" / "p.json").exists()


def test_a_flag_value_read_late_is_worded_as_the_parsers_own_usage_errors(workdir: Path):
    """--queue is checked by the parser, --expect-split by the command: one wording for both."""
    early = run_cli(["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/p.json", "--nope"], workdir)
    late = run_cli(
        ["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/p.json", "--expect-split", "90/1x"],
        workdir,
    )
    for proc in (early, late):
        check(proc, 2, r"^budget compile: usage error: .* \(see budget compile --help\)$")
    assert "--expect-split: split '90/1x': must be percentages like 90/10" in late.stderr
