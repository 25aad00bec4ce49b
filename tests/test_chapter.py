"""The chapter's exercises, typed as a learner types them, against golden output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
Q45 = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5"

# (name, commands): each command is (argv, expected exit code)
EXERCISES = {
    "ex1_compile": [
        (
            [
                "compile",
                "--budget-spec",
                "specs/budget_network.yaml",
                "--out",
                "out/budget_plan.json",
                "--expect-split",
                "90/10",
            ],
            0,
        ),
    ],
    "ex2_simulate_45m": [
        (["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/budget_plan.json"], 0),
        (
            [
                "simulate",
                "--plan",
                "out/budget_plan.json",
                "--scenario",
                "scenarios/fail_local_45m.json",
                "--out",
                "out/fail_result.json",
            ],
            0,
        ),
        (["inspect", "--result", "out/fail_result.json", "--query", Q45], 0),
        (["inspect", "--result", "out/fail_result.json", "--query", "token_health_min<0.60"], 0),
    ],
    "ex3_simulate_15m": [
        (["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/budget_plan.json"], 0),
        (
            [
                "simulate",
                "--plan",
                "out/budget_plan.json",
                "--scenario",
                "scenarios/fail_local_15m.json",
                "--out",
                "out/fail_15m_result.json",
            ],
            0,
        ),
        (["inspect", "--result", "out/fail_15m_result.json", "--query", "token_health_min>=0.7"], 0),
    ],
    "ex4_note": [
        (
            [
                "simulate",
                "--plan",
                "specs/budget_network.yaml",
                "--scenario",
                "scenarios/fail_local_45m.json",
                "--out",
                "out/fail_result.json",
            ],
            0,
        ),
        (
            [
                "note",
                "--result",
                "out/fail_result.json",
                "--case",
                "high_memory_usage",
                "--out",
                "capstone/budget-note.md",
            ],
            0,
        ),
    ],
    "ex5_compressed_5m": [
        (
            [
                "compile",
                "--budget-spec",
                "specs/budget_network_5m.yaml",
                "--out",
                "out/budget_plan_5m.json",
                "--expect-split",
                "90/10",
            ],
            0,
        ),
        (
            [
                "simulate",
                "--plan",
                "out/budget_plan_5m.json",
                "--scenario",
                "scenarios/fail_local_45m.json",
                "--out",
                "out/fail_result_5m.json",
            ],
            0,
        ),
        (
            [
                "inspect",
                "--result",
                "out/fail_result_5m.json",
                "--query",
                "failover_to_frontier==2 && degraded_queue==18 && token_health_min>=0.5",
            ],
            0,
        ),
    ],
    "production_form": [
        (
            [
                "simulate",
                "--plan",
                "specs/budget_network.yaml",
                "--failure",
                "11:00,local-coder,down,45m",
                "--queue",
                "20",
                "--manual-timeout-sec",
                "120",
                "--out",
                "out/prod.json",
            ],
            0,
        ),
        (["inspect", "--result", "out/prod.json", "--query", Q45], 0),
    ],
}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_exercise_as_typed(name: str, workdir: Path):
    transcript = []
    for argv, code in EXERCISES[name]:
        proc = run_cli(argv, workdir)
        transcript.append("$ budget " + " ".join(f'"{a}"' if set(a) & set(" <>&|!()") else a for a in argv))
        transcript.append(proc.stdout.rstrip("\n"))
        assert proc.returncode == code, (argv, proc.stdout, proc.stderr)
        assert proc.stderr == ""
    text = "\n".join(transcript) + "\n"
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_compiled_plan_has_no_diff_to_the_example(workdir: Path):
    run_cli(["compile", "--budget-spec", "specs/budget_network.yaml", "--out", "out/budget_plan.json"], workdir)
    assert (workdir / "out" / "budget_plan.json").read_bytes() == (
        ROOT / "specs" / "reference" / "budget_plan.example.json"
    ).read_bytes()


def test_45m_breaches_the_guard_but_15m_and_5m_keep_their_order(workdir: Path):
    results = {}
    for plan, sc in [("budget_network", "45m"), ("budget_network", "15m"), ("budget_network_5m", "45m")]:
        out = f"out/{plan}_{sc}.json"
        proc = run_cli(
            ["simulate", "--plan", f"specs/{plan}.yaml", "--scenario", f"scenarios/fail_local_{sc}.json", "--out", out],
            workdir,
        )
        assert proc.returncode == 0, proc.stderr
        results[(plan, sc)] = json.loads((workdir / out).read_text())
    r45 = results[("budget_network", "45m")]
    assert 0.5 <= r45["token_health_min"] < 0.60
    assert r45["guard"]["breached"] and r45["red_button_review"]
    assert results[("budget_network", "15m")]["token_health_min"] >= 0.7
    r5m = results[("budget_network_5m", "45m")]
    assert 0.5 <= r5m["token_health_min"] < r45["token_health_min"]


def test_note_written_from_the_run(workdir: Path):
    for argv, _ in EXERCISES["ex4_note"]:
        run_cli(argv, workdir)
    note = (workdir / "capstone" / "budget-note.md").read_text()
    assert "## high_memory_usage" in note
    assert 'risk: "local-coder unavailable 45m"' in note
    assert 'effect: "5 tasks go to frontier-reviewer, 15 remain degraded/manual"' in note
    assert 'alert_threshold: "token_health_min < 0.60' in note
