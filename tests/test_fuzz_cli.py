"""Hypothesis drives every command with hostile files and flags; each run must keep the contract.

See tests/fuzzkit.py for the contract. ``FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_cli.py``
runs a larger, random budget by hand.
"""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from budget.errors import BudgetError
from budget.files import decode_text, load_document, parse_text
from budget.keeper import simulate
from budget.model import load_scenario, load_spec, plan_json
from tests.fuzzkit import (
    ROOT,
    check_contract,
    dump_json,
    dump_yaml,
    file_bytes,
    fuzz_settings,
    mutated,
    texts,
    values,
    workfolder,
)

SPEC_TEXT = (ROOT / "specs" / "budget_network.yaml").read_text()
SPEC_DATA = yaml.safe_load(SPEC_TEXT)
SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")
PLAN_TEXT = plan_json(SPEC)
SCENARIO_TEXT = (ROOT / "scenarios" / "fail_local_45m.json").read_text()
RESULT = simulate(SPEC, load_scenario(ROOT / "scenarios" / "fail_local_15m.json", SPEC)).to_dict()
RESULT_TEXT = json.dumps(RESULT)
ALERT_LINES = (ROOT / "scenarios" / "alerts_day_800.jsonl").read_text().splitlines()[:25]
ALERTS = [json.loads(x) for x in ALERT_LINES]
SAMPLES = {p.name: p.read_text() for p in (ROOT / "scenarios" / "samples").iterdir()}
GATE_TEXT = (ROOT / "specs" / "validation" / "budget_gate.yaml").read_text()
HISTORY = [{"run": 1, "day": "2026-11-24", "spec": "specs/budget_network.yaml", "flow": 25, "token_health_min": 0.7}]
SPLITS = st.one_of(st.sampled_from(["90/10", "80/20", "nan/nan", "inf/-inf", "100/0", "50/50/0", "1e400/0"]), texts)
QUERIES = st.one_of(
    st.sampled_from(["token_health_min>=0.5", "failover_to_frontier==5 && degraded_queue==15", "guard.breached"]),
    texts,
)


def _doc(base_text: str, base_data, kind: str):
    return file_bytes(base_text, base_data, kind)


@fuzz_settings(60)
@given(
    spec=_doc(SPEC_TEXT, SPEC_DATA, "yaml"),
    ext=st.sampled_from(["yaml", "json"]),
    split=st.none() | SPLITS,
    tolerance=st.none() | texts,
)
def test_compile(spec: bytes, ext: str, split, tolerance):
    with workfolder({f"in/spec.{ext}": spec, "out/plan.json": "old plan\n"}) as w:
        argv = ["compile", "--budget-spec", str(w / f"in/spec.{ext}"), "--out", str(w / "out/plan.json")]
        argv += ["--expect-split", split] if split is not None else []
        argv += ["--tolerance", tolerance] if tolerance is not None else []
        check_contract(argv, w, ["spec."])


@fuzz_settings(40)
@given(
    plan=_doc(PLAN_TEXT, json.loads(PLAN_TEXT), "json"),
    scenario=_doc(SCENARIO_TEXT, json.loads(SCENARIO_TEXT), "json"),
    hostile=st.sampled_from(["plan", "scenario", "both"]),
    flags=st.dictionaries(
        st.sampled_from(["--queue", "--manual-timeout-sec", "--seed", "--policy"]), texts, max_size=2
    ),
)
def test_simulate(plan: bytes, scenario: bytes, hostile: str, flags: dict[str, str]):
    files = {"plan.json": plan if hostile != "scenario" else PLAN_TEXT}
    files["scenario.json"] = scenario if hostile != "plan" else SCENARIO_TEXT
    with workfolder(files) as w:
        argv = ["simulate", "--plan", str(w / "plan.json"), "--scenario", str(w / "scenario.json")]
        argv += ["--out", str(w / "out" / "result.json")]
        for flag, value in flags.items():
            argv += [flag, value]
        check_contract(argv, w, ["plan.json", "scenario.json"])


@fuzz_settings(40)
@given(
    failure=st.one_of(st.sampled_from(["11:00,local-coder,down,45m", "11:00,local-coder,down,1e400m"]), texts),
    queue=st.one_of(st.sampled_from(["20", "10000", "10001", "99999999999999999999"]), texts),
)
def test_simulate_failure_form(failure: str, queue: str):
    with workfolder() as w:
        argv = ["simulate", "--plan", str(w / "specs/budget_network.yaml"), "--failure", failure, "--queue", queue]
        check_contract([*argv, "--out", str(w / "r.json")], w, ["budget_network.yaml"])


@fuzz_settings(60)
@given(result=_doc(RESULT_TEXT, RESULT, "json"), query=QUERIES)
def test_inspect(result: bytes, query: str):
    with workfolder({"result.json": result}) as w:
        check_contract(["inspect", "--result", str(w / "result.json"), "--query", query], w, ["result.json"])


@fuzz_settings(50)
@given(
    result=_doc(RESULT_TEXT, RESULT, "json"),
    hostile_result=st.booleans(),
    case=st.one_of(st.sampled_from(["high_memory_usage", "a\n", "x\r", "## b", "a" * 90]), texts),
    fields=st.dictionaries(st.sampled_from(["--risk", "--effect", "--decision", "--alert-threshold"]), texts),
    note=st.one_of(st.none(), st.binary(max_size=200), st.sampled_from(["# Budget note\n\n```\n", "## x\n"])),
)
def test_note(result: bytes, hostile_result: bool, case: str, fields: dict[str, str], note):
    files = {"result.json": result if hostile_result else RESULT_TEXT}
    if note is not None:
        files["capstone/budget-note.md"] = note
    with workfolder(files) as w:
        argv = ["note", "--result", str(w / "result.json"), "--case", case, "--out", str(w / "capstone/budget-note.md")]
        for flag, value in fields.items():
            argv += [flag, value]
        check_contract(argv, w, ["result.json", "budget-note.md", "note"])


ALERT_FORMS = {
    "jsonl": ("alerts.jsonl", "\n".join(ALERT_LINES), ALERTS, "jsonl"),
    "pagerduty": (
        "pd.json",
        SAMPLES["pagerduty_incidents.json"],
        json.loads(SAMPLES["pagerduty_incidents.json"]),
        "json",
    ),
    "analytics": (
        "pda.json",
        SAMPLES["pagerduty_analytics.json"],
        json.loads(SAMPLES["pagerduty_analytics.json"]),
        "json",
    ),
    "alertmanager": ("am.json", SAMPLES["alertmanager.json"], json.loads(SAMPLES["alertmanager.json"]), "json"),
    "grafana": ("gf.json", SAMPLES["grafana.json"], json.loads(SAMPLES["grafana.json"]), "json"),
}


@st.composite
def alert_file(draw: st.DrawFn) -> tuple[str, bytes]:
    form = draw(st.sampled_from([*ALERT_FORMS, "csv"]))
    if form == "csv":
        text = SAMPLES["alerts.csv"]
        rows = text.splitlines()
        how = draw(st.sampled_from(["cell", "bytes", "big"]))
        if how == "bytes":
            return "alerts.csv", draw(st.binary(max_size=300))
        if how == "big":
            return "alerts.csv", (text + 'x,high,"' + "y" * 140_000 + '"\n').encode()
        i = draw(st.integers(0, len(rows) - 1))
        cells = rows[i].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(["nan", "1e20", "", '"', "true", "-1"]))
        rows[i] = ",".join(cells)
        return "alerts.csv", "\n".join(rows).encode()
    name, text, data, kind = ALERT_FORMS[form]
    if kind == "jsonl":
        records = draw(st.lists(st.sampled_from(ALERTS), min_size=1, max_size=8))
        i = draw(st.integers(0, len(records) - 1))
        records[i] = draw(mutated(records[i]))
        return name, "\n".join(dump_json(r).replace("\n", " ") for r in records).encode("utf-8", "surrogatepass")
    return name, draw(_doc(text, data, "json"))


@fuzz_settings(60)
@given(
    alerts=alert_file(),
    severity_map=st.none() | _doc("severity: {boom: P0}\n", {"severity": {"boom": "P0"}}, "yaml"),
    history=st.none() | _doc(json.dumps(HISTORY[0]), HISTORY[0], "json"),
    flags=st.dictionaries(st.sampled_from(["--outages", "--start", "--down-tier", "--format"]), texts, max_size=2),
)
def test_drill(alerts, severity_map, history, flags):
    name, content = alerts
    files = {name: content, "out/old.json": "previous\n"}
    if severity_map is not None:
        files["sev.yaml"] = severity_map
    if history is not None:
        files["hist.jsonl"] = history.replace(b"\n", b" ") + b"\n"
    with workfolder(files) as w:
        argv = ["drill", "--budget-spec", str(w / "specs/budget_network.yaml"), "--alerts", str(w / name)]
        argv += ["--fail-under", "0", "--outages", "15", "--out", str(w / "out/old.json"), "--csv", str(w / "d.csv")]
        if severity_map is not None:
            argv += ["--severity-map", str(w / "sev.yaml")]
        if history is not None:
            argv += ["--history", str(w / "hist.jsonl")]
        for flag, value in flags.items():
            argv += [flag, value]
        check_contract(argv, w, [name, "sev.yaml", "hist.jsonl", "budget_network.yaml"], verdict_writes=True)


@fuzz_settings(40)
@given(
    gate=_doc(GATE_TEXT, yaml.safe_load(GATE_TEXT), "yaml"),
    metrics=_doc(RESULT_TEXT, RESULT, "json"),
    hostile=st.sampled_from(["gate", "metrics"]),
)
def test_validate(gate: bytes, metrics: bytes, hostile: str):
    files = {"gate.yaml": gate if hostile == "gate" else GATE_TEXT}
    files["metrics.json"] = metrics if hostile == "metrics" else RESULT_TEXT
    with workfolder(files) as w:
        argv = ["validate", "--validation", str(w / "gate.yaml"), "--metrics", str(w / "metrics.json")]
        check_contract(argv, w, ["gate.yaml", "metrics.json"])


CALIBRATE_FLAGS = ["--frontier-shares", "--reserves", "--timeouts", "--thresholds", "--outages", "--targets"]


@fuzz_settings(30)
@given(
    flags=st.dictionaries(
        st.sampled_from([*CALIBRATE_FLAGS, "--start", "--workers"]),
        st.one_of(texts, st.sampled_from(["0:1:1e-9", "15:nan", "0.1,nan", "1e400", "15,15,15", "0"])),
        min_size=1,
        max_size=2,
    ),
    gate=st.none() | _doc(GATE_TEXT, yaml.safe_load(GATE_TEXT), "yaml"),
)
def test_calibrate(flags: dict[str, str], gate):
    alerts = "\n".join(ALERT_LINES[:10])
    files = {"a.jsonl": alerts, "rec.yaml": "old\n"}
    if gate is not None:
        files["gate.yaml"] = gate
    with workfolder(files) as w:
        argv = ["calibrate", "--budget-spec", str(w / "specs/payment_gateway_80_20_mid.yaml"), "--alerts"]
        argv += [str(w / "a.jsonl"), "--out", str(w / "rec.yaml"), "--csv", str(w / "sweep.csv"), "--quiet"]
        sweep = {"--frontier-shares": "0.2", "--reserves": "2000000", "--timeouts": "120", "--thresholds": "0.6"}
        sweep |= {"--outages": "15", "--targets": "15:0.1", "--workers": "1"}
        sweep |= flags
        for flag, value in sweep.items():
            argv += [flag, value]
        if gate is not None:
            argv += ["--validation", str(w / "gate.yaml")]
        check_contract(argv, w, ["a.jsonl", "gate.yaml", "payment_gateway_80_20_mid.yaml"])


@fuzz_settings(40)
@given(
    flags=st.dictionaries(
        st.sampled_from(["--incidents-per-day", "--incident-tokens", "--disputed-share", "--outages-per-month"]),
        texts,
        min_size=1,
    )
)
def test_propose(flags: dict[str, str]):
    with workfolder() as w:
        argv = ["propose", "--out", str(w / "p.yaml")]
        argv += [] if "--incidents-per-day" in flags else ["--incidents-per-day", "800"]
        for flag, value in flags.items():
            argv += [flag, value]
        check_contract(argv, w, [])


COMMANDS = ["compile", "simulate", "inspect", "drill", "validate", "calibrate", "propose", "note", "bogus"]


@fuzz_settings(60)
@given(command=st.sampled_from(COMMANDS), args=st.lists(st.one_of(texts, st.sampled_from(["--out", "--plan"]))))
def test_arbitrary_arguments(command: str, args: list[str]):
    with workfolder() as w:
        check_contract([command, *args], w, [command])


@fuzz_settings(150)
@given(data=st.binary(max_size=400), name=st.sampled_from(["x.json", "x.yaml", "x.yml", "x"]))
def test_loader_takes_any_bytes(data: bytes, name: str):
    try:
        parse_text(decode_text(data, name), name)
    except BudgetError as exc:
        assert "\n" not in str(exc) and name in str(exc)


@fuzz_settings(100)
@given(value=values, kind=st.sampled_from(["json", "yaml"]))
def test_loader_takes_any_value(value, kind: str, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("v") / f"doc.{kind}"
    text = dump_json(value) if kind == "json" else dump_yaml(value)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_document(path)
    except BudgetError as exc:
        assert "doc." in str(exc)


POLICY_SPEC = {**SPEC_DATA, "policy": SPEC.policy.model_dump(mode="json")}


@fuzz_settings(40)
@given(spec=_doc(dump_json(POLICY_SPEC), POLICY_SPEC, "json"), command=st.sampled_from(["simulate", "drill"]))
def test_policy_edges_run_through_the_keeper(spec: bytes, command: str):
    """A spec whose policy values are mutated (most land on the edges of their ranges) is refused or runs."""
    with workfolder({"spec.json": spec, "a.jsonl": "\n".join(ALERT_LINES)}) as w:
        if command == "simulate":
            argv = ["simulate", "--plan", str(w / "spec.json"), "--scenario", str(w / "scenarios/fail_local_45m.json")]
        else:
            argv = ["drill", "--plan", str(w / "spec.json"), "--alerts", str(w / "a.jsonl"), "--outages", "30"]
            argv += ["--fail-under", "0"]
        check_contract([*argv, "--out", str(w / "out.json")], w, ["spec.json"], verdict_writes=True)


def _bounds(field) -> tuple[float, float, bool]:
    lo, hi, open_lo = 0.0, 1.0, False
    for m in field.metadata:
        lo, open_lo = (m.gt, True) if hasattr(m, "gt") else ((m.ge, False) if hasattr(m, "ge") else (lo, open_lo))
        hi = m.le if hasattr(m, "le") else hi
    return lo, hi, open_lo


NUMERIC_POLICY = {
    name: (field.annotation is int, *_bounds(field))
    for name, field in type(SPEC.policy).model_fields.items()
    if field.metadata and field.annotation in (int, float, float | None)
}


@st.composite
def policy_edges(draw: st.DrawFn) -> dict:
    """One to four numeric policy constants set to an edge of their documented range (or just inside)."""
    out = {}
    for name in draw(st.lists(st.sampled_from(sorted(NUMERIC_POLICY)), min_size=1, max_size=4, unique=True)):
        is_int, lo, hi, open_lo = NUMERIC_POLICY[name]
        low = (lo + 1 if is_int else lo + 1e-9) if open_lo else lo
        value = draw(st.sampled_from([low, hi, (low + hi) / 2]))
        out[name] = int(value) if is_int else float(value)
    return out


@fuzz_settings(30)
@given(policy=policy_edges(), command=st.sampled_from(["simulate", "drill"]))
def test_valid_policy_edges_answer_quickly(policy: dict, command: str):
    """Every value inside the documented ranges runs (or is refused) in a few seconds: no crash, no stall."""
    import time

    spec = {**SPEC_DATA, "policy": policy}
    with workfolder({"spec.json": json.dumps(spec), "a.jsonl": "\n".join(ALERT_LINES)}) as w:
        if command == "simulate":
            argv = ["simulate", "--plan", str(w / "spec.json"), "--scenario", str(w / "scenarios/fail_local_45m.json")]
        else:
            argv = ["drill", "--plan", str(w / "spec.json"), "--alerts", str(w / "a.jsonl"), "--outages", "1440"]
            argv += ["--fail-under", "0"]
        t0 = time.monotonic()
        check_contract([*argv, "--out", str(w / "out.json")], w, ["spec.json"], verdict_writes=True)
        assert time.monotonic() - t0 < 10, policy
