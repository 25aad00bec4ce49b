"""The flow diagram is valid DOT for every tier and phase name: Graphviz reads it back and draws the names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from budget.keeper import simulate
from budget.model import load_scenario, load_spec, scenario_from_dict
from budget.workbench import pipeline_dot
from tests.conftest import ROOT

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz (dot) is not installed")

TIERS = ['lo"cal\\', 'fron"tier\\"x']
PHASES = ["tri|age", "class{ification}", "diag<nosis>", 'pl"an\\', "re me|{diation}"]


def _odd_spec(tmp_path: Path):
    text = (ROOT / "specs" / "budget_network.yaml").read_text()
    phases = ["triage", "classification", "diagnosis", "plan", "remediation"]
    for old, new in zip(phases, PHASES, strict=True):
        text = text.replace(f"  {old}:\n", f"  {json.dumps(new)}:\n", 1)
    text = text.replace("local-coder:", f"{json.dumps(TIERS[0])}:").replace(
        "frontier-reviewer:", f"{json.dumps(TIERS[1])}:"
    )
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    return load_spec(path)


def _run(spec):
    data = {"down_tier": spec.tiers[0], "start": "11:00", "duration_min": 45, "queue": 20, "manual_timeout_sec": 120}
    return simulate(spec, scenario_from_dict(data, spec)).to_dict()


def _drawn_texts(dot_text: str) -> list[str]:
    """Every text Graphviz draws for the graph (``dot -Tjson``: the ``T`` operations of the labels)."""
    proc = subprocess.run([DOT or "dot", "-Tjson"], input=dot_text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    graph = json.loads(proc.stdout)
    texts = []
    for item in [*graph.get("objects", []), *graph.get("edges", [])]:
        for key in ("_ldraw_", "_tldraw_", "_hldraw_"):
            texts += [op["text"] for op in item.get(key, []) if op.get("op") == "T"]
    return texts


def _strict_tokens(dot_text: str) -> list[str]:
    """The DOT statements' quoted strings, read with Graphviz's own lexer rule (a backslash quote escapes)."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', dot_text)
    # every line has balanced quotes: no string runs past the end of its line
    for line in dot_text.splitlines():
        stripped = re.sub(r'"(?:[^"\\]|\\.)*"', "", line)
        assert '"' not in stripped, line
    return strings


def test_names_with_quotes_and_record_characters_stay_inside_their_strings(tmp_path: Path):
    spec = _odd_spec(tmp_path)
    assert list(spec.phases)[:5] == PHASES and list(spec.tiers) == TIERS
    result = _run(spec)
    text = pipeline_dot(spec, result)
    strings = _strict_tokens(text)
    assert any(s.startswith("SDD phases|") for s in strings)
    record = next(s for s in strings if s.startswith("SDD phases|"))
    assert record.count("|") - record.count("\\|") == len(spec.phases)  # one field per phase, no more


@needs_dot
@pytest.mark.parametrize("with_result", [False, True])
def test_graphviz_reads_the_diagram_and_draws_every_name(tmp_path: Path, with_result: bool):
    spec = _odd_spec(tmp_path)
    result = _run(spec)
    texts = _drawn_texts(pipeline_dot(spec, result if with_result else None))
    for name in [*spec.tiers, *spec.phases]:
        assert name in texts, (name, texts)


@needs_dot
def test_a_three_tier_run_draws_the_failover_into_the_tier_that_took_it():
    spec = load_spec(ROOT / "specs" / "payment_gateway_80_20_mid.yaml")
    result = simulate(spec, load_scenario(ROOT / "scenarios" / "fail_local_45m.json", spec)).to_dict()
    text = pipeline_dot(spec, result)
    assert 'keeper -> "mid-coder" [label="exit 1: 14 tasks to mid-coder"' in text
    assert 'keeper -> "frontier-reviewer"' not in text
    assert "ranked failover: P0/P1/P2 -> mid-coder, P0/P1 -> frontier-reviewer" in text
    assert "exit 1: 14 tasks to mid-coder" in _drawn_texts(text)


def test_the_two_tier_diagram_is_the_chapters():
    spec = load_spec(ROOT / "specs" / "budget_network.yaml")
    result = simulate(spec, load_scenario(ROOT / "scenarios" / "fail_local_45m.json", spec)).to_dict()
    text = pipeline_dot(spec, result)
    assert 'keeper -> "frontier-reviewer" [label="exit 1: 5 tasks"' in text
    assert "ranked failover: P0/P1, age > 90 s" in text
    assert "run: min 0.55 at 11:44, breached at 11:35" in text
