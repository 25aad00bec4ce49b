"""The input layer: regular files only, a bounded read, strict numbers, duplicates and shapes refused."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from budget.drill import alerts, import_alerts
from budget.errors import BudgetError
from budget.files import MAX_INPUT_BYTES, MAX_YAML_BYTES, jsonscan, load_document, parse_text, read_text
from budget.model import load_spec, parse_split, scenario_from_dict, scenario_from_text, spec_from_text
from tests.conftest import ROOT, run_cli

SPEC = (ROOT / "specs" / "budget_network.yaml").read_text()
SCENARIO = json.loads((ROOT / "scenarios" / "fail_local_45m.json").read_text())


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(BudgetError, match=r"pipe\.json: is a named pipe \(FIFO\), not a regular file"):
        load_document(fifo)
    assert time.monotonic() - t0 < 2


@pytest.mark.parametrize("path, kind", [("/dev/zero", "character device"), ("/dev/null", "character device")])
def test_devices_are_refused_before_any_byte_is_read(path: str, kind: str):
    with pytest.raises(BudgetError, match=f"{path}: is a {kind}, not a regular file"):
        read_text(path)


def test_folders_and_missing_files(tmp_path: Path):
    with pytest.raises(BudgetError, match="is a folder, not a file"):
        read_text(tmp_path)
    with pytest.raises(BudgetError, match="nope.yaml: no such file"):
        read_text(tmp_path / "nope.yaml")


def test_the_read_itself_stops_at_the_limit(tmp_path: Path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: 2 GB that would take a while to read whole
        fh.truncate(2 * 1024**3)
    t0 = time.monotonic()
    with pytest.raises(BudgetError, match=r"big\.json: larger than the 5,242,880-byte limit"):
        load_document(big)
    assert time.monotonic() - t0 < 2
    exact = tmp_path / "exact.json"
    exact.write_bytes(b"[" + b" " * (MAX_INPUT_BYTES - 2) + b"]")
    assert load_document(exact).data == []


def test_yaml_has_its_own_smaller_bound():
    with pytest.raises(BudgetError, match="over the 262,144-byte limit for YAML"):
        parse_text("a: [" + "1," * (MAX_YAML_BYTES // 2) + "1]\n", "x.yaml")


def test_non_utf8_names_file_line_and_byte(tmp_path: Path):
    p = tmp_path / "s.yaml"
    p.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(BudgetError, match=r"s\.yaml:2: not UTF-8 text \(byte 0xff at offset 8\)"):
        load_document(p)


@pytest.mark.parametrize(
    "text, name, pattern",
    [
        ("a: 1\nb: 2\na: 3\n", "x.yaml", r"x\.yaml:3: a: duplicate key 'a' \(also on line 1\)"),
        ('{"a": 1,\n "b": 2,\n "a": 3}', "x.json", r"x\.json:3: a: duplicate key 'a' \(also on line 1\)"),
        ("a: .inf\n", "x.yaml", r"x\.yaml:1: .*'\.inf' is not a finite number"),
        ("a: .nan\n", "x.yaml", r"'\.nan' is not a finite number"),
        ("a: 1.0e+400\n", "x.yaml", r"is not a finite number"),
        ('{"a":\n NaN}', "x.json", r"x\.json:2: a: NaN is not a number"),
        ('{"a": -Infinity}', "x.json", r"Infinity is not a number"),
        ('{"a": 1e400}', "x.json", r"x\.json:1: a: number 1e400 is too large"),
        ('{"a": ' + "9" * 5000 + "}", "x.json", r"integer of 5,000 digits is over the 18-digit limit"),
        ("a: " + "9" * 5000 + "\n", "x.yaml", r"integer of 5,000 characters is too large"),
        ("a: 0b" + "1" * 100 + "\n", "x.yaml", r"too large"),
        ("a: &x [1]\nb: *x\n", "x.yaml", r"x\.yaml:2: .*aliases"),
        ("a: !!binary aGk=\n", "x.yaml", r"the tag !!binary is not allowed"),
        ("a: !!timestamp 2026-01-01\n", "x.yaml", r"the tag !!timestamp is not allowed"),
        ("[" * 70 + "]" * 70, "x.yaml", r"nested deeper than 64 levels"),
        ("[" * 70 + "]" * 70, "x.json", r"nested deeper than 64 levels"),
        ("[" * 100_000 + "]" * 100_000, "x.json", r"x\.json: nested too deeply"),
        ("", "x.json", r"x\.json: file is empty"),
        ("# only a comment\n", "x.yaml", r"file is empty"),
    ],
)
def test_strict_documents(text: str, name: str, pattern: str):
    with pytest.raises(BudgetError, match=pattern):
        parse_text(text, name)


def test_dates_stay_text_so_a_calendar_invalid_one_is_no_crash():
    assert parse_text("day: 2026-02-30\n", "x.yaml").data == {"day": "2026-02-30"}


def test_valid_json_is_never_walked_for_line_numbers(monkeypatch: pytest.MonkeyPatch):
    def walk(*_a, **_k):
        raise AssertionError("walked")

    monkeypatch.setattr(jsonscan, "locate", walk)
    monkeypatch.setattr(jsonscan, "find_problem", walk)
    text = (ROOT / "specs" / "reference" / "budget_plan.example.json").read_text()
    assert parse_text(text, "plan.json").data["daily_budget_tokens"] == 10_000_000


def test_json_field_errors_name_the_line_from_the_json_text():
    text = json.dumps({**SCENARIO, "queue": "twenty"}, indent=2)
    with pytest.raises(BudgetError, match=r"s\.json:5: queue: Input should be a valid integer"):
        scenario_from_text(text, "s.json")


@pytest.mark.parametrize(
    "change, pattern",
    [
        ({"queue": True}, r"queue: Input should be a valid integer, got True"),
        ({"queue": 20.0}, r"queue: Input should be a valid integer"),
        ({"queue": "20"}, r"queue: Input should be a valid integer"),
        ({"queue": 10_001}, r"queue: must be between 0 and 10,000"),
        ({"manual_timeout_sec": False}, r"manual_timeout_sec: Input should be a valid number"),
        ({"manual_timeout_sec": float("nan")}, r"manual_timeout_sec: Input should be a finite number"),
        ({"incidents": [{"severity": "P1", "arrival": float("nan")}], "queue": 1}, r"arrival: must be from 0"),
        ({"incidents": [{"severity": "P1", "arrival": 1e20}], "queue": 1}, r"arrival: must be from 0"),
        ({"incidents": [{"severity": "P1", "blast_radius": float("inf")}], "queue": 1}, r"finite number"),
        ({"incidents": {"a": 1}}, r"incidents: Input should be a valid list"),
        ({"incidents": [[1, 2]], "queue": 1}, r"incidents\.0: must be an object"),
        ({"seed": 10**30}, r"seed: must have at most 18 digits"),
    ],
)
def test_scenario_fields_are_strict(change: dict, pattern: str):
    with pytest.raises(BudgetError, match=pattern):
        scenario_from_dict({**SCENARIO, **change})


@pytest.mark.parametrize(
    "policy, pattern",
    [
        ("alert_threshold: .inf", r"not a finite number"),
        ("alert_threshold: true", r"policy\.alert_threshold: Input should be a valid number, got True"),
        ("tokens_per_incident: 3.0", r"tokens_per_incident: Input should be a valid integer"),
        ("tokens_per_incident: '5000'", r"tokens_per_incident: Input should be a valid integer"),
        ("queue_limit: 99999999", r"queue_limit: Input should be less than or equal to 10000"),
        ("risk_weight: {P0: 1.0e+300}", r"risk_weight\.P0: must be from 0 to 1000"),
        ("stage_shares: [0.3, 2]", r"each stage share must be above 0"),
        ("sla_resolve: {P0: 999999999999999m, P1: 30m, P2: 2h, P3: 8h}", r"longer than 30 days"),
        ("capacity_tpm: {local-coder: 1.5}", r"capacity_tpm\.local-coder: Input should be a valid integer"),
        ("disputed_share: .nan", r"not a finite number"),
        ("phase_shares: {triage: true}", r"phase_shares\.triage: Input should be a valid number"),
    ],
)
def test_policy_is_strict(policy: str, pattern: str):
    with pytest.raises(BudgetError, match=pattern):
        spec_from_text(SPEC + "policy:\n  " + policy + "\n", "x.yaml")


def test_policy_lists_still_read_as_tuples():
    spec = spec_from_text(SPEC + "policy:\n  failover_severities: [P0]\n  stage_shares: [0.5, 1]\n", "x.yaml")
    assert spec.policy.failover_severities == ("P0",) and spec.policy.stage_shares == (0.5, 1.0)


@pytest.mark.parametrize("split", ["nan/nan", "inf/-inf", "1e400/-1e400", "90/10%x"])
def test_split_must_be_finite(split: str):
    with pytest.raises(BudgetError, match="split"):
        parse_split(split, ("local-coder", "frontier-reviewer"))


def test_sla_p95_must_be_a_finite_duration():
    with pytest.raises(BudgetError, match=r"x\.yaml:10: phases\.triage\.sla_p95: .*longer than 30 days"):
        spec_from_text(SPEC.replace("sla_p95: 30s", "sla_p95: " + "9" * 30 + "s"), "x.yaml")


def test_tiers_and_phases_are_bounded():
    phases = "".join(f"  p{i}:\n    a: 1\n" for i in range(65))
    with pytest.raises(BudgetError, match=r"phases: has 65 phases and 1 tiers \(limits: 64 and 16\)"):
        spec_from_text(f"daily_budget_tokens: 65\nphases:\n{phases}", "x.yaml")


def test_reference_shaped_inputs_still_load():
    assert load_spec(ROOT / "specs" / "budget_network.yaml").daily_budget_tokens == 10_000_000


# --- alert streams -----------------------------------------------------------------------


def _pd(**incident) -> str:
    base = {"id": "PD1", "created_at": "2026-11-24T10:00:00Z", "urgency": "high"}
    ok = {"id": "PD2", "created_at": "2026-11-24T10:05:00Z", "urgency": "low"}
    return json.dumps({"incidents": [{**base, **incident}, ok]})


def test_pagerduty_priority_as_text_or_object():
    incidents, _ = import_alerts(_pd(priority="P1"), "pd.json")
    assert incidents[0].severity == "P0"
    incidents, _ = import_alerts(_pd(priority={"summary": "P2"}), "pd.json")
    assert incidents[0].severity == "P1"
    _, report = import_alerts(_pd(priority=["P1"]), "pd.json")
    assert report.skipped == [(1, "priority: not a name: ['P1']")]


@pytest.mark.parametrize(
    "created, why",
    [
        (1e20, "epoch seconds 1e+20 out of range"),
        (-1, "epoch seconds -1 out of range"),
        (True, "not a time: True"),
        ("2026-02-30T10:00:00Z", "not an ISO 8601 time"),
        ("0001-01-01T00:00:00+01:00", "not an ISO 8601 time"),
        ({"t": 1}, "not a time"),
    ],
)
def test_impossible_times_skip_the_record(created, why: str):
    _, report = import_alerts(_pd(created_at=created), "pd.json")
    assert len(report.skipped) == 1 and why in report.skipped[0][1]


def test_nan_and_infinity_in_jsonl_skip_the_record():
    good = '{"timestamp": "2026-11-24T10:00:00Z", "severity": "high"}'
    text = "\n".join([good, '{"timestamp": NaN, "severity": "high"}', good.replace("}", ', "blast_radius": 1e999}')])
    incidents, report = import_alerts(text, "a.jsonl")
    assert len(incidents) == 1 and [n for n, _ in report.skipped] == [2, 3]


def test_an_oversized_csv_field_names_its_line():
    text = "timestamp,severity,service\n2026-11-24T10:00:00Z,high,a\n2026-11-24T10:00:00Z,high," + "x" * 200_000
    with pytest.raises(BudgetError, match=r"a\.csv:3: a CSV field is over 131,072 characters"):
        import_alerts(text, "a.csv")


def test_a_duplicated_csv_header_is_refused():
    with pytest.raises(BudgetError, match=r"a\.csv:1: the CSV header names 'severity' twice"):
        import_alerts("timestamp,severity,severity\n2026-11-24T10:00:00Z,high,low\n", "a.csv")


def test_the_alert_count_is_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(alerts, "MAX_ALERTS", 5)
    line = '{"timestamp": "2026-11-24T10:00:00Z", "severity": "high"}\n'
    assert len(import_alerts(line * 5, "a.jsonl")[0]) == 5
    with pytest.raises(BudgetError, match=r"a\.jsonl: more than 5 alert records"):
        import_alerts(line * 6, "a.jsonl")


def test_webhook_payload_with_a_duplicate_key_names_the_line():
    text = (
        '{"alerts": [\n{"startsAt": "2026-11-24T10:00:00Z",\n "labels": {"severity": "critical", "severity": "low"}}]}'
    )
    with pytest.raises(BudgetError, match=r"am\.json:3: alerts\.0\.labels\.severity: duplicate key 'severity'"):
        import_alerts(text, "am.json")


# --- the CLI's flags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["drill", "--fail-under", "nan"], r"--fail-under: must be a finite number from 0 to 1, got 'nan'"),
        (["simulate", "--queue", "9" * 5000], r"--queue: must be a whole number from 0 to 10000"),
        (["simulate", "--queue", "10001"], r"--queue: must be a whole number from 0 to 10000, got '10001'"),
        (["simulate", "--manual-timeout-sec", "inf"], r"--manual-timeout-sec: must be a finite number above 0"),
        (["calibrate", "--workers", "0"], r"--workers: must be a whole number from 1 to 64"),
        (["note", "--alert-threshold", "1e400"], r"--alert-threshold: must be a finite number"),
        (["compile", "--tolerance", "-1"], r"--tolerance: must be a finite number from 0 to 100"),
    ],
)
def test_numeric_flags_are_usage_errors(workdir: Path, argv: list[str], pattern: str):
    import re

    proc = run_cli(argv, workdir)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), proc.stderr


@pytest.mark.parametrize(
    "flags, pattern",
    [
        (["--targets", "15:nan"], r"--targets '15:nan'"),
        (["--targets", "15:0.7,15:0.8"], r"--targets: names 15 minutes twice"),
        (
            ["--frontier-shares", "0:1:1e-9"],
            r"--frontier-shares '0:1:1e-9': 1,000,000,001 values, over the limit of 100",
        ),
        (["--thresholds", "0.6,nan"], r"--thresholds '0.6,nan': must be start:stop:step"),
        (["--outages", "1,2,3,4,5,6,7,8,9,10,11,12,13"], r"--outages: 13 different outages, over the limit of 12"),
        (["--reserves", "-5"], r"--reserves: -5 is out of range"),
    ],
)
def test_calibrate_flags_fail_before_any_work(workdir: Path, flags: list[str], pattern: str):
    import re

    argv = ["calibrate", "--budget-spec", "specs/payment_gateway_80_20_mid.yaml", "--alerts", "nope.jsonl"]
    proc = run_cli([*argv, "--out", "r.yaml", "--csv", "s.csv", *flags], workdir)
    assert proc.returncode == 2 and re.search(pattern, proc.stderr), proc.stderr
    assert not (workdir / "r.yaml").exists() and not (workdir / "s.csv").exists()


def test_duplicate_outages_are_merged(workdir: Path):
    argv = ["drill", "--budget-spec", "specs/payment_gateway_85_15.yaml", "--alerts", "scenarios/samples/alerts.csv"]
    proc = run_cli([*argv, "--outages", "15,15,30,15", "--out", "d.json"], workdir)
    assert proc.returncode in (0, 1), proc.stderr
    assert [r["outage_min"] for r in json.loads((workdir / "d.json").read_text())["runs"]] == [0, 15, 30]


def test_no_command_is_one_line(workdir: Path):
    proc = run_cli([], workdir)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


def test_a_long_usage_error_is_one_line(workdir: Path):
    proc = run_cli(["drill", "--bogus"], workdir)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "budget drill: usage error: the following arguments are required" in proc.stderr


def test_an_unexpected_error_is_one_line_naming_the_command(monkeypatch: pytest.MonkeyPatch, capsys):
    from budget import cli
    from budget.cli import plan_commands

    def boom(_args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(plan_commands, "cmd_inspect", boom)
    assert cli.main(["inspect", "--result", "r.json", "--query", "x"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "budget inspect: internal error: RuntimeError: something broke\\nsecond line (please report this)"
    ]


def test_a_big_file_with_a_late_problem_is_reported_without_walking_it_all():
    import time as _t

    text = '{"pad": [' + ",".join(["1"] * 3_000_000) + '], "a": NaN}'
    t0 = _t.monotonic()
    with pytest.raises(BudgetError, match=r"big\.json: not valid JSON: NaN is not a number"):
        parse_text(text, "big.json")
    assert _t.monotonic() - t0 < 10


JSON_LINES = [
    '{"a": 1, "b": [1.5, "x"], "c": null}',
    '  {"a": 1}',  # leading whitespace
    '{"a": 1}  \r',  # trailing whitespace, a CRLF file's \r
    '\ufeff{"a": 1}',  # a BOM
    '{"a": 1} {"b": 2}',  # two values on one line
    '{"a": 1, "a": 2}',  # duplicate key
    '{"a": NaN}',
    '{"a": 1e400}',
    '{"a": ' + "9" * 5000 + "}",
    '{"a": 1',
    "[1, 2]",
    '"text"',
    "",
    "nul",
]


@pytest.mark.parametrize("line", JSON_LINES)
def test_a_json_line_reads_exactly_as_the_strict_reader_reads_it(line: str):
    def outcome(read):  # the value, or the error's type and message
        try:
            return ("value", read(line))
        except (ValueError, RecursionError) as exc:
            return (type(exc).__name__, str(exc))

    assert outcome(jsonscan.loads_line) == outcome(jsonscan.loads)


@given(
    hs.recursive(
        hs.none() | hs.booleans() | hs.integers() | hs.floats() | hs.text(max_size=5),
        lambda kids: hs.lists(kids, max_size=3) | hs.dictionaries(hs.text(max_size=3), kids, max_size=3),
        max_leaves=8,
    ),
    hs.sampled_from(["", " ", "\t", "x", ",", "}"]),
)
@settings(max_examples=200, deadline=None, derandomize=True)
def test_any_json_line_reads_exactly_as_the_strict_reader_reads_it(value, tail):
    line = json.dumps(value) + tail
    outcomes = []
    for read in (jsonscan.loads_line, jsonscan.loads):
        try:
            outcomes.append(("value", json.dumps(read(line))))
        except (ValueError, RecursionError) as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]
