"""budget validate on the textbook's chapter-10 validator files, Markdown, --json, and held-out variants."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from budget.errors import QueryError
from budget.gateway import CHAPTER, CHAPTER_10, edge_drift, rules_from_text, run
from tests.conftest import ROOT, run_cli

FIX = ROOT / "specs" / "validation" / "goodhart"
RULES = yaml.safe_load((FIX / "validation.yaml").read_text())
GOOD = json.loads((FIX / "new_metrics_good.json").read_text())


@pytest.fixture
def fx(tmp_path: Path) -> Path:
    for f in FIX.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def validate(cwd: Path, metrics: str, *extra: str, rules: str = "validation.yaml"):
    return run_cli(["validate", "--validation", rules, "--metrics", metrics, *extra], cwd)


def write(folder: Path, name: str, data: object) -> str:
    text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data, sort_keys=False)
    (folder / name).write_text(text)
    return name


# --- the book's verdicts ------------------------------------------------------------------


def test_good_release_passes_and_the_drift_guard_is_skipped_not_passed(fx: Path):
    proc = validate(fx, "new_metrics_good.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check red_button_mttr_blindness: idle" in proc.stdout
    assert "check network_consistency: skipped" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "PASS: 4 evaluated, none failed; skipped (not passed): network_consistency"


def test_bad_release_fails_with_ci_block_and_names_both_violated_invariants(fx: Path):
    proc = validate(fx, "new_metrics_bad.json")
    assert proc.returncode == 1
    assert "when mttr_seconds < 300 (actual 290): true; violated: manual_review_floor, silent_p0_cap" in proc.stdout
    assert proc.stdout.splitlines()[-1] == (
        "FAIL: CI_BLOCK: red_button_mttr_blindness; invariants violated: manual_review_floor, silent_p0_cap"
    )


def test_drift_release_passes_alone_and_fails_against_the_baseline(fx: Path):
    assert validate(fx, "new_metrics_drift.json").returncode == 0
    proc = validate(fx, "new_metrics_drift.json", "--baseline", "baseline_metrics.json")
    assert proc.returncode == 1
    assert "edge_drift 0.18 <= 0.12: does not hold (4 edges against baseline_metrics.json)" in proc.stdout
    assert "mttr__silent_p0: 0.4 vs 0.62, |delta| 0.22" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "FAIL: CI_BLOCK: network_consistency"
    good = validate(fx, "new_metrics_good.json", "--baseline", "baseline_metrics.json")
    assert good.returncode == 0 and "edge_drift 0.02 <= 0.12: holds" in good.stdout


def test_json_prints_the_whole_verdict(fx: Path):
    proc = validate(fx, "new_metrics_drift.json", "--baseline", "baseline_metrics.json", "--json")
    assert proc.returncode == 1
    v = json.loads(proc.stdout)
    assert (v["format"], v["verdict"], v["exit_code"], v["fail_labels"]) == (CHAPTER_10, "fail", 1, ["CI_BLOCK"])
    items = {i["name"]: i for i in v["targets"][0]["items"]}
    assert items["silent_p0_cap"] == {
        "kind": "invariant",
        "name": "silent_p0_cap",
        "state": "ok",
        "failed": False,
        "metric": "silent_p0",
        "operator": "<=",
        "threshold": 0.05,
        "actual": 0.02,
        "missing": False,
        "holds": True,
    }
    guard = items["network_consistency"]
    assert guard["edge_drift"] == 0.18 and guard["threshold"] == 0.12 and guard["fail"] == "CI_BLOCK"
    assert {e["edge"]: e["delta"] for e in guard["edges"]} == {
        "audit_trace_coverage__silent_p0": 0.14,
        "escalation_rate__manual_review_rate": 0.16,
        "manual_review_rate__mttr": 0.2,
        "mttr__silent_p0": 0.22,
    }
    when = items["red_button_mttr_blindness"]
    assert when["state"] == "idle" and when["when"] == {
        "metric": "mttr_seconds",
        "operator": "<",
        "threshold": 300,
        "actual": 650,
        "holds": False,
    }


def test_json_on_unusable_input_says_error(fx: Path):
    proc = validate(fx, "nope.json", "--json")  # a metrics file that is not there: invalid input, as for inspect
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"verdict": "error", "exit_code": 1, "error": "nope.json: no such file"}
    write(fx, "only_guard.yaml", {"checks": [RULES["checks"][1]]})  # a gate that checks nothing: unusable rules
    proc = validate(fx, "new_metrics_good.json", "--json", rules="only_guard.yaml")
    assert proc.returncode == 2 and json.loads(proc.stdout)["exit_code"] == 2


# --- Markdown -------------------------------------------------------------------------------

MD = """# Release gate

The rules below block a release that buys a fast MTTR with silence.

```yaml
{body}```

Edge drift is checked against the last release.
"""


def test_markdown_with_a_yaml_block_gives_the_same_verdicts(fx: Path):
    (fx / "validation.md").write_text(MD.format(body=(fx / "validation.yaml").read_text()))
    for name, code in (("good", 0), ("bad", 1), ("drift", 0)):
        assert validate(fx, f"new_metrics_{name}.json", rules="validation.md").returncode == code, name
    assert (
        validate(fx, "new_metrics_drift.json", "--baseline", "baseline_metrics.json", rules="validation.md").returncode
        == 1
    )
    chapter = (ROOT / "specs" / "validation" / "budget_gate.yaml").read_text()
    assert rules_from_text(MD.format(body=chapter), "validation.md").format == CHAPTER


def test_markdown_errors_point_at_the_markdown_line(fx: Path):
    body = "invariants:\n  - name: a\n    metric: m\n    operator: '=~'\n    threshold: 1\n"
    (fx / "v.md").write_text(MD.format(body=body))
    proc = validate(fx, "new_metrics_good.json", rules="v.md")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "budget validate: usage error: v.md:9: invariants[0].operator: unknown operator '=~' (use < <= > >= == !=) "
        "(see budget validate --help)"
    )
    (fx / "none.md").write_text("# no rules here\n\n    indented code\n")
    assert "no ```yaml fenced block" in validate(fx, "new_metrics_good.json", rules="none.md").stderr
    two = MD.format(body="checks: []\n") + "\n```yaml\ninvariants: []\n```\n"
    (fx / "two.md").write_text(two)
    assert "2 yaml blocks hold checks (lines 6, 12)" in validate(fx, "new_metrics_good.json", rules="two.md").stderr


# --- missing metrics, NaN, nothing evaluated -------------------------------------------------


def test_a_missing_metric_violates_its_invariant_and_says_so(fx: Path):
    write(fx, "m.json", {k: v for k, v in GOOD.items() if k != "silent_p0"})
    proc = validate(fx, "m.json")
    assert proc.returncode == 1
    assert (
        "silent_p0 <= 0.05: metric 'silent_p0' is missing from the input, a violation of this invariant" in proc.stdout
    )
    assert proc.stdout.splitlines()[-1] == "FAIL: invariants violated: silent_p0_cap"


def test_a_missing_when_metric_is_unusable_input(fx: Path):
    write(fx, "m.json", {k: v for k, v in GOOD.items() if k != "mttr_seconds"})
    proc = validate(fx, "m.json")
    assert (
        proc.returncode == 2 and "metric 'mttr_seconds' (when_metric of check red_button_mttr_blindness)" in proc.stderr
    )


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinite_metrics_are_refused_in_both_formats(fx: Path, bad: str):
    (fx / "m.json").write_text(json.dumps(GOOD).replace('"silent_p0": 0.02', f'"silent_p0": {bad}'))
    proc = validate(fx, "m.json")
    assert proc.returncode == 1 and f"m.json:1: silent_p0: {bad} is not a number" in proc.stderr
    shutil.copytree(ROOT / "specs", fx / "specs")
    chapter = {"mttr_p95": 100, "escalation_ratio": 0.01, "silent_p0": 0.0, "unresolved_manual_ratio": 0.0}
    chapter |= {"postmortem_gap": 0.0, "token_health_min": 0.9, "token_health_trend_5m": 0.0, "queue_pressure": 0.1}
    chapter |= {"degraded_mode_duration": 0, "red_button_review": True, "manual_channel_open": True}
    chapter |= {"frontier_reserved_for_p0_p1": True}
    text = json.dumps(chapter).replace('"token_health_min": 0.9', f'"token_health_min": {bad}')
    (fx / "c.json").write_text(text)
    proc = validate(fx, "c.json", rules="specs/validation/budget_gate.yaml")
    assert proc.returncode == 1 and f"c.json:1: token_health_min: {bad} is not a number" in proc.stderr


@pytest.mark.parametrize("bad", ["NaN", "Infinity"])
def test_a_nan_metric_is_invalid_input_to_inspect_and_validate_alike(workdir: Path, bad: str):
    """The same result file, read by both commands: exit 1 (invalid input) and one line naming the file and field."""
    sim = ["simulate", "--plan", "specs/budget_network.yaml", "--scenario", "scenarios/fail_local_45m.json"]
    assert run_cli([*sim, "--out", "r.json"], workdir).returncode == 0
    text = (workdir / "r.json").read_text()
    (workdir / "bad.json").write_text(
        re.sub(r'"token_health_min": [0-9.]+', f'"token_health_min": {bad}', text, count=1)
    )
    at = text[: text.index('"token_health_min"')].count("\n") + 1
    line = f"budget: error: bad.json:{at}: token_health_min: {bad} is not a number (JSON has no NaN or Infinity)"
    inspect = run_cli(["inspect", "--result", "bad.json", "--query", "degraded_queue==15"], workdir)
    gate = run_cli(["validate", "--validation", "specs/validation/budget_gate.yaml", "--metrics", "bad.json"], workdir)
    for proc in (inspect, gate):
        assert (proc.returncode, proc.stderr.splitlines(), proc.stdout) == (1, [line], "")


def test_a_drill_result_without_outage_runs_is_not_a_pass(fx: Path):
    shutil.copytree(ROOT / "specs", fx / "specs")
    write(fx, "d.json", {"runs": [{"outage_min": 0, "token_health_min": 1.0}], "outages": {"0": {}}})
    proc = validate(fx, "d.json", rules="specs/validation/budget_gate.yaml")
    assert proc.returncode == 2 and "no outage runs" in proc.stderr and proc.stdout == ""


def test_a_gate_that_evaluates_nothing_is_unusable(fx: Path):
    rules = {"checks": [RULES["checks"][1]]}  # the drift guard alone, and no baseline
    write(fx, "only_guard.yaml", rules)
    proc = validate(fx, "new_metrics_good.json", rules="only_guard.yaml")
    assert proc.returncode == 2 and "nothing was evaluated" in proc.stderr
    with_base = validate(fx, "new_metrics_drift.json", "--baseline", "baseline_metrics.json", rules="only_guard.yaml")
    assert with_base.returncode == 1


# --- held-out variants ----------------------------------------------------------------------


def variant(**changes: object) -> dict:
    rules = json.loads(json.dumps(RULES))
    for path, value in changes.items():
        *head, last = path.split("__")
        node = rules
        for p in head:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    return rules


@pytest.mark.parametrize(
    "changes, metrics, code, last_line",
    [
        # a threshold moved across the line: the invariant fails alone, no check is active
        ({"invariants__0__threshold": 0.20}, {}, 1, "FAIL: invariants violated: manual_review_floor"),
        # the condition's line moved: the good release is now inside it, but its invariants hold
        ({"checks__0__when_threshold": 500}, {}, 0,
         "PASS: 4 evaluated, none failed; skipped (not passed): network_consistency"),
        # a metric moved across the line: exactly at the threshold of a strict "<" stays idle
        ({}, {"mttr_seconds": 300, "silent_p0": 0.06}, 1, "FAIL: invariants violated: silent_p0_cap"),
        ({}, {"mttr_seconds": 299.5, "silent_p0": 0.06}, 1,
         "FAIL: CI_BLOCK: red_button_mttr_blindness; invariants violated: silent_p0_cap"),
        # a different label is the one shown
        ({"checks__0__fail": "RELEASE_HOLD"}, {"mttr_seconds": 10, "manual_review_rate": 0.1}, 1,
         "FAIL: RELEASE_HOLD: red_button_mttr_blindness; invariants violated: manual_review_floor"),
        ({"invariants__2__operator": "!="}, {}, 1, "FAIL: invariants violated: audit_trace_required"),
    ],
)  # fmt: skip
def test_held_out_variants(fx: Path, changes: dict, metrics: dict, code: int, last_line: str):
    write(fx, "v.yaml", variant(**changes))
    write(fx, "m.json", GOOD | metrics)
    proc = validate(fx, "m.json", rules="v.yaml")
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == last_line


@pytest.mark.parametrize(
    "op, value, holds",
    [("<", 0.9, True), ("<", 1.0, False), ("<=", 1.0, True), ("<=", 1.1, False), (">", 1.1, True),
     (">", 1.0, False), (">=", 1.0, True), (">=", 0.9, False), ("==", 1.0, True), ("==", 0.99, False),
     ("!=", 0.99, True), ("!=", 1.0, False)],
)  # fmt: skip
def test_every_operator(op: str, value: float, holds: bool):
    rules = rules_from_text(yaml.safe_dump(variant(invariants__2__operator=op)), "v.yaml")
    verdict = run(rules, GOOD | {"audit_trace_coverage": value})
    item = next(i for i in verdict.items if i.name == "audit_trace_required")
    assert item.data["holds"] is holds and verdict.exit_code == (0 if holds else 1)


def test_an_edge_in_only_one_file_counts_its_own_value():
    drift, rows = edge_drift({"a": 0.5, "b": 0.1}, {"a": 0.4, "c": -0.3})
    assert drift == round((0.1 + 0.1 + 0.3) / 3, 4) == 0.1667
    assert rows == [
        {"edge": "a", "new": 0.5, "baseline": 0.4, "delta": 0.1},
        {"edge": "b", "new": 0.1, "baseline": None, "delta": 0.1},
        {"edge": "c", "new": None, "baseline": -0.3, "delta": 0.3},
    ]


def test_drift_exactly_at_the_threshold_passes_after_rounding(fx: Path):
    base = {"edge_correlations": {"x": 0.5, "y": 0.5}}
    write(fx, "b.json", base)
    write(fx, "n.json", GOOD | {"edge_correlations": {"x": 0.62, "y": 0.38}})
    assert validate(fx, "n.json", "--baseline", "b.json").returncode == 0
    write(fx, "n2.json", GOOD | {"edge_correlations": {"x": 0.62, "y": 0.379}})
    assert validate(fx, "n2.json", "--baseline", "b.json").returncode == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"checks__0__assert_invariants": ["manual_review_floor", "no_such"]},
         r"v\.yaml:2\d: red_button_mttr_blindness\.assert_invariants\[1\]: unknown invariant 'no_such'"),
        ({"invariants__0__operator": "=>"}, r"invariants\[0\]\.operator: unknown operator '=>'"),
        ({"invariants__0__threshold": "high"}, r"invariants\[0\]\.threshold: must be a number, got 'high'"),
        ({"invariants__1__name": "manual_review_floor"}, r"invariants\[1\]\.name: 'manual_review_floor' is used twice"),
        ({"checks__1__drift_metric": "node_drift"}, r"drift_metric: 'node_drift' is not known"),
        ({"checks__1__mode": "median_guard"}, r"unknown mode 'median_guard'"),
        ({"checks__0__fail": None}, r"checks\[0\]\.fail: must be the label"),
        ({"checks__0__if": {"all": ["x > 1"]}}, r"mixes the two formats"),
        ({"version": 2}, r"version: 2 is not known"),
    ],
)  # fmt: skip
def test_unusable_rules_exit_2_naming_the_line(fx: Path, changes: dict, message: str):
    write(fx, "v.yaml", variant(**changes))
    proc = validate(fx, "new_metrics_good.json", rules="v.yaml")
    assert proc.returncode == 2, proc.stdout
    assert re.search(message, proc.stderr), proc.stderr
    with pytest.raises(QueryError, match=message):
        rules_from_text((fx / "v.yaml").read_text(), "v.yaml")


def test_unusable_inputs_exit_2(fx: Path):
    (fx / "latin1.yaml").write_bytes("# r\xe8gles\n".encode("latin-1") + (fx / "validation.yaml").read_bytes())
    assert "not UTF-8" in validate(fx, "new_metrics_good.json", rules="latin1.yaml").stderr
    write(fx, "nobase.json", {"label": "x"})
    proc = validate(fx, "new_metrics_drift.json", "--baseline", "nobase.json")
    assert proc.returncode == 2 and "nobase.json: edge_correlations: missing" in proc.stderr
    shutil.copytree(ROOT / "specs", fx / "specs")
    chapter = validate(fx, "new_metrics_good.json", "--baseline", "baseline_metrics.json",
                       rules="specs/validation/budget_gate.yaml")  # fmt: skip
    assert chapter.returncode == 2 and "has no correlation_guard check to read it" in chapter.stderr


def test_shipped_chapter_10_files_are_the_textbooks():
    ref = ROOT.parent / "shared" / "reference" / "goodhart-validator"
    if not ref.exists():
        pytest.skip("shared/reference not beside the checkout")
    assert (FIX / "validation.yaml").read_bytes() == (ref / "specs" / "validation.yaml").read_bytes()
    for f in (ref / "fixtures").iterdir():
        assert (FIX / f.name).read_bytes() == f.read_bytes()


def test_counts_of_one_are_said_in_the_singular():
    one = variant()
    one["invariants"] = one["invariants"][1:2]  # silent_p0_cap alone
    one["checks"] = [one["checks"][1]]  # network_consistency alone
    rules = rules_from_text(yaml.safe_dump(one), "v.yaml")
    assert rules.describe() == "v.yaml: chapter-10 format, 1 invariant, 1 check"
    edge = {"edge_correlations": {"mttr__silent_p0": 0.5}}
    verdict = run(rules, GOOD | edge, "n.json", edge, "b.json")
    guard = next(i for i in verdict.items if i.name == "network_consistency")
    assert guard.lines[0] == "edge_drift 0.0 <= 0.12: holds (1 edge against b.json)"
    assert rules_from_text(yaml.safe_dump(RULES), "v.yaml").describe() == (
        "v.yaml: chapter-10 format, 3 invariants, 2 checks"
    )
