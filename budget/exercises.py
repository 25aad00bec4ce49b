"""The chapter's practice exercises as data, each runnable in one call.

The Home page shows them as a checklist; the CLI golden tests type the same
commands. Every check is an inspect query evaluated on what the engine returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.gate import load_checks, validate
from budget.keeper import simulate
from budget.note import entry_from_result, render_section
from budget.plan import proportion_check
from budget.query import Outcome, evaluate
from budget.scenario import load_scenario
from budget.spec import load_spec, parse_split, tier_totals
from budget.workbench import plan_diff

Q45 = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5"


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    complexity: str
    commands: tuple[str, ...]
    query: str


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "compile",
        "Compile the budget plan and check proportions",
        "beginner",
        (
            "budget compile --budget-spec specs/budget_network.yaml --out out/budget_plan.json --expect-split 90/10",
            "diff out/budget_plan.json specs/reference/budget_plan.example.json",
        ),
        "daily_budget_tokens==10000000 && totals.local==9000000 && totals.frontier==1000000 "
        "&& split_ok==true && diff_lines==0",
    ),
    Exercise(
        "simulate_45m",
        "Simulate a 45-minute failure and inspect four conditions at once",
        "intermediate",
        (
            "budget simulate --plan out/budget_plan.json --scenario scenarios/fail_local_45m.json "
            "--out out/fail_result.json",
            f'budget inspect --result out/fail_result.json --query "{Q45}"',
        ),
        Q45,
    ),
    Exercise(
        "simulate_15m",
        "Compare with a 15-minute failure",
        "intermediate",
        (
            "budget simulate --plan out/budget_plan.json --scenario scenarios/fail_local_15m.json "
            "--out out/fail_15m_result.json",
            'budget inspect --result out/fail_15m_result.json --query "token_health_min>=0.7"',
        ),
        "token_health_min>=0.7",
    ),
    Exercise(
        "note",
        "Formulate the risk for the capstone note",
        "intermediate",
        ("budget note --result out/fail_result.json --case high_memory_usage --out capstone/budget-note.md",),
        "alert_threshold > simulated_floor && simulated_floor >= 0.5",
    ),
    Exercise(
        "compressed_5m",
        "Calibrate a compressed budget (5M)",
        "advanced",
        (
            "budget compile --budget-spec specs/budget_network_5m.yaml --out out/budget_plan_5m.json "
            "--expect-split 90/10",
            "budget simulate --plan out/budget_plan_5m.json --scenario scenarios/fail_local_45m.json "
            "--out out/fail_result_5m.json",
            "budget inspect --result out/fail_result_5m.json --query "
            '"failover_to_frontier==2 && degraded_queue==18 && token_health_min>=0.5"',
        ),
        "daily_budget_tokens==5000000 && totals.local==4500000 && totals.frontier==500000 "
        "&& failover_to_frontier==2 && degraded_queue==18 && token_health_min>=0.5",
    ),
)


EXERCISES = (
    *EXERCISES,
    Exercise(
        "gateway",
        "Verify the anti-Goodhart gateway",
        "advanced",
        (
            "budget validate --validation specs/validation/budget_gate.yaml --metrics out/fail_result.json",
            "budget simulate --plan out/budget_plan.json --scenario scenarios/fail_local_45m.json "
            "--policy close_silently --out out/goodhart.json",
            "budget validate --validation specs/validation/budget_gate.yaml --metrics out/goodhart.json",
        ),
        "ranked_passes==true && goodhart_blocked==true && goodhart.silent_p0 > 0.02",
    ),
)


@dataclass(frozen=True)
class ExerciseRun:
    exercise: Exercise
    outcome: Outcome
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.outcome.ok


def _compiled(spec_path: Path) -> dict[str, Any]:
    spec = load_spec(spec_path)
    checks = proportion_check(spec, parse_split("90/10", spec.tiers))
    return {
        "daily_budget_tokens": spec.daily_budget_tokens,
        "totals": tier_totals(spec),
        "split_ok": all(c.ok for c in checks),
    }


def run_exercise(key: str, specs: Path, scenarios: Path) -> ExerciseRun:
    """Run one exercise through the engine and evaluate its check."""
    ex = next(e for e in EXERCISES if e.key == key)
    spec10 = load_spec(specs / "budget_network.yaml")
    data: dict[str, Any]
    if key == "compile":
        data = _compiled(specs / "budget_network.yaml")
        data["diff_lines"] = len(plan_diff(spec10))
    elif key in ("simulate_45m", "simulate_15m", "note"):
        name = "fail_local_15m.json" if key == "simulate_15m" else "fail_local_45m.json"
        data = simulate(spec10, load_scenario(scenarios / name, spec10)).to_dict()
        if key == "note":
            entry = entry_from_result(data, "high_memory_usage")
            data = {**entry.model_dump(), "section": render_section(entry)}
    elif key == "compressed_5m":
        spec5 = load_spec(specs / "budget_network_5m.yaml")
        data = {
            **simulate(spec5, load_scenario(scenarios / "fail_local_45m.json", spec5)).to_dict(),
            **_compiled(specs / "budget_network_5m.yaml"),
        }
    elif key == "gateway":
        checks = load_checks(specs / "validation" / "budget_gate.yaml")
        sc = load_scenario(scenarios / "fail_local_45m.json", spec10)
        ranked = simulate(spec10, sc).to_dict()
        goodhart = simulate(spec10, sc, routing="close_silently").to_dict()
        ranked_failed = [cid for rep in validate(checks, ranked) for cid in rep.failed]
        goodhart_failed = [cid for rep in validate(checks, goodhart) for cid in rep.failed]
        data = {
            "ranked_passes": not ranked_failed,
            "goodhart_blocked": "anti_goodhart_budget" in goodhart_failed,
            "goodhart": {k: goodhart[k] for k in ("mttr_p95", "escalation_ratio", "silent_p0")},
        }
    else:  # pragma: no cover - keys come from EXERCISES
        raise KeyError(key)
    return ExerciseRun(ex, evaluate(ex.query, data), data)
