"""What the pages draw, without Streamlit: charts, the flow diagram, the workbook, units, estimates."""

from __future__ import annotations

import shlex
import shutil

import pytest

from budget.keeper import health_text, simulate
from budget.model import load_scenario, load_spec
from budget.workbench import (
    POLICY_VARIANTS,
    RUN_COLOURS,
    Workbook,
    calibration_heatmap,
    check_table,
    drill_health_chart,
    failure_command,
    overlay_health_chart,
    pipeline_dot,
    policy_sentence,
    queue_chart,
    quota_chart,
    run_variants,
    simulate_command,
    simulate_output,
    sum_chart,
    sweep_estimate,
    table_from_text,
    value_with_unit,
)
from tests.conftest import ROOT, run_cli

SPEC = load_spec(ROOT / "specs" / "budget_network.yaml")


@pytest.fixture(scope="module")
def run45() -> dict:
    return simulate(SPEC, load_scenario(ROOT / "scenarios" / "fail_local_45m.json", SPEC)).to_dict()


def test_the_flow_diagram_carries_the_runs_counts_thresholds_and_guard(run45):
    dot = pipeline_dot(SPEC, run45)
    assert dot.startswith("digraph pipeline {")
    assert "exit 1: 5 tasks" in dot and "exit 2: 15 tasks" in dot and "exit 3: 15 tasks after 120 s" in dot
    assert "triage\\nSLA p95 30s" in dot and "postmortem\\nSLA p95 10m" in dot
    assert "token_health guard 0.60" in dot and "breached at 11:35" in dot
    assert "DOWN 45 min from 11:00" in dot
    plain = pipeline_dot(SPEC)  # before any run: the same pipeline, no counts
    assert "exit 1: P0/P1 tasks" in plain and "DOWN" not in plain


def test_drill_chart_focuses_on_the_outage_window_with_distinct_runs():
    rows = [{"time": f"{h:02d}:{m:02d}", "token_health": 1.0} for h in range(24) for m in range(0, 60, 5)]
    drill = {
        "start": "11:00",
        "fail_under": 0.6,
        "outages": {"0": {}, "15": {}, "45": {}},
        "timelines": {"no outage": rows, "15 min outage": rows, "45 min outage": rows},
    }
    focused = drill_health_chart(drill).to_dict()
    data = next(iter(focused["datasets"].values()))
    times = sorted({d["time"] for d in data})
    assert times[0].startswith("2026-01-01T10:45") and times[-1].startswith("2026-01-01T13:15")
    assert "10:45-13:15" in focused["title"]
    whole = drill_health_chart(drill, focus=False).to_dict()
    assert len(next(iter(whole["datasets"].values()))) == 3 * len(rows)
    colour = focused["layer"][0]["encoding"]["color"]["scale"]["range"]
    assert colour[0] == "#7f7f7f" and len(set(colour)) == 3  # baseline grey, the others distinct
    guard_floor = focused["layer"][1]["encoding"]["color"]["scale"]["domain"]
    assert guard_floor == ["guard 0.60", "floor 0.50"]


def test_overlaid_runs_get_distinct_colours_and_the_queue_chart_is_tall(run45):
    chart = overlay_health_chart({"a": run45, "b": run45, "c": run45}).to_dict()
    assert chart["layer"][0]["encoding"]["color"]["scale"]["range"] == RUN_COLOURS[:3]
    queue = queue_chart(run45).to_dict()
    # the plot's own height: its title, axes and legend come on top (Streamlit's default squeezed them in)
    assert queue["height"] >= 240 and queue["autosize"]["type"] == "fit-x"
    assert chart["autosize"]["type"] == "fit-x"


def test_the_heatmap_is_titled_and_marks_the_recommended_cell():
    rows = [
        {"frontier_share": f, "control_reserve": r, "token_health_min_15m": 0.5 + f}
        for f in (0.05, 0.1)
        for r in (700_000, 2_000_000)
    ]
    chart = calibration_heatmap(rows, 15, {"frontier_share": 0.1, "control_reserve": 2_000_000}).to_dict()
    assert chart["title"]["text"] == "15-minute outage"
    marks = [layer["mark"] for layer in chart["layer"]]
    assert any(m.get("text") == "★" for m in marks) and any(m.get("stroke") for m in marks)
    star = [d for ds in chart["datasets"].values() for d in ds if d.get("what") == "recommended"]
    assert star == [{"frontier share": "10%", "reserve": "2M", "what": "recommended"}]


def test_editor_charts_draw_an_invalid_table():
    text = (ROOT / "specs" / "budget_network.yaml").read_text().replace("3000000", "3500000")
    table = table_from_text(text)
    check = check_table(table)
    chart = sum_chart(table, check).to_dict()
    assert (
        chart["title"]["subtitle"]
        == "quota sum 10,500,000 +500,000 tokens against the daily budget (10,000,000, the mark)"
    )
    assert chart["layer"][1]["mark"]["color"] == "#d62728"
    assert quota_chart(table).to_dict()["mark"]["type"] == "bar"


def test_workbook_records_each_run_once_and_writes_markdown(run45):
    book = Workbook()
    cmd = simulate_command("specs/budget_network.yaml", "scenarios/fail_local_45m.json", "ranked", "degraded_queue==15")
    out = simulate_output(run45)
    first = book.record("Simulator", "45 min", cmd, out)
    assert book.record("Simulator", "45 min again", cmd, out) is first
    book.interpret(first.id, "  the guard breaks before the floor  ")
    book.record("Compare", "variant", "budget simulate ...", "other output")
    md = book.to_markdown()
    assert md.startswith("# Workbook")
    assert "| Command and output | What this means for my project |\n| --- | --- |\n" in md
    rows = md.split("| --- | --- |\n", 1)[1].splitlines()
    assert len(rows) == 2  # the chapter's two columns, one row a run
    assert rows[0].startswith("| **1. 45 min** (Simulator)<br>`budget simulate --plan specs/budget_network.yaml")
    assert rows[0].endswith("| the guard breaks before the floor |")
    assert rows[1].startswith("| **2. variant** (Compare)") and rows[1].endswith("| _(not written yet)_ |")
    assert "degraded_queue==15" in rows[0] and "\n" not in rows[0]
    assert "token_health_min 0.5550 at 11:44: breaches the 0.60 guard (first at 11:35)" in out
    assert "mttr_p95 840 s" in out


def test_values_carry_their_units():
    assert value_with_unit("mttr_p95 < 5m", 840) == "840 s (14.0 min)"
    assert value_with_unit("token_health_min>=0.5", 0.555) == "0.555 (0-1)"
    assert value_with_unit("manual_queue_after_120s==15", 15) == "15 tasks"
    assert value_with_unit("totals.local==9000000", 9_000_000) == "9,000,000 tokens"
    assert value_with_unit("ranked_passes==true", True) == "true"


def test_sweep_estimates():
    assert sweep_estimate(180, 3, 0.05, workers=2) == "14 s"
    assert sweep_estimate(4480, 3, 0.3, workers=2) == "34 min"
    assert sweep_estimate(1, 1, 0.001, workers=2) == "1 s"


def test_the_policy_sentence_is_read_off_the_runs():
    specs = {"budget_network.yaml": SPEC}
    rows, _ = run_variants(POLICY_VARIANTS, specs)
    sentence = policy_sentence(rows)
    for r in rows:  # each policy's own figures, beside its name
        part = next(p for p in sentence.split("; ") if p.startswith(r["variant"] + ":"))
        assert f"token_health_min {health_text(r['token_health_min'])}" in part  # rounded down, as everywhere
        assert f"{r['P0/P1 SLA breaches']} P0/P1 SLA breaches" in part
        assert ("holds the guard" in part) == (r["guard"] == "holds")
    assert "keeps token_health" not in sentence


def test_a_variant_is_written_in_the_chapters_production_form(tmp_path):
    cmd = failure_command("specs/budget_network.yaml", "11:00", "local-coder", 60, 40, 60, "ranked")
    assert cmd == (
        'budget simulate --plan specs/budget_network.yaml --failure "11:00,local-coder,down,60m" --queue 40 '
        "--manual-timeout-sec 60 --policy ranked --out out/result.json"
    )
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    done = run_cli(shlex.split(cmd)[1:], tmp_path)  # the command runs as printed
    assert done.returncode == 0, done.stderr
