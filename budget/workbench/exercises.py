"""The chapter's practice exercises as data, each runnable in one call.

The Home page shows them as a checklist; the CLI golden tests type the same
commands. Every check is an inspect query evaluated on what the engine returns.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.calibration import calibrate, propose
from budget.drill import load_alerts, run_drill
from budget.gateway import Outcome, evaluate, load_checks, validate
from budget.keeper import simulate
from budget.model import BudgetSpec, Scenario, load_scenario, load_spec, parse_split, proportion_check, tier_totals
from budget.workbench.compare import COMPARE_SECTIONS
from budget.workbench.library import plan_diff
from budget.workbench.note import entry_from_result, render_section

Q45 = "failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5"


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    complexity: str
    commands: tuple[str, ...]
    query: str
    number: str = ""  # the README's number ("" for the two traps, which it does not number)
    page: str = ""  # the page where the learner can take the exercise further
    section: str = ""  # the tab of that page it is in ("" for the page as it opens)


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
        number="1",
        page="pages/1_Spec_editor.py",
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
        number="2",
        page="pages/2_Simulator.py",
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
        number="3",
        page="pages/3_Compare.py",
    ),
    Exercise(
        "note",
        "Write the capstone note",
        "intermediate",
        ("budget note --result out/fail_result.json --case high_memory_usage --out capstone/budget-note.md",),
        "alert_threshold > simulated_floor && simulated_floor >= 0.5",
        number="4",
        page="pages/4_Budget_note.py",
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
        number="5",
        page="pages/3_Compare.py",
    ),
    Exercise(
        "traps",
        "The two traps",
        "intermediate",
        (
            "budget simulate --plan out/budget_plan.json --scenario scenarios/fail_local_45m.json "
            "--policy all_to_frontier --out out/trap_frontier.json",
            "budget simulate --plan out/budget_plan.json --scenario scenarios/fail_local_45m.json "
            "--policy hold_all --out out/trap_hold.json",
        ),
        "all_to_frontier.token_health_min==0 && hold_all.p0_p1_sla_breaches==hold_all.p0_p1_tasks "
        "&& ranked.p0_p1_sla_breaches==0",
        page="pages/3_Compare.py",
        section=COMPARE_SECTIONS[2],
    ),
    Exercise(
        "drill",
        "The daily budget drill (the payment-gateway case)",
        "advanced",
        (
            "budget drill --budget-spec specs/payment_gateway_85_15.yaml --alerts scenarios/alerts_day_800.jsonl "
            "--outages 15,30,45 --out out/drill.json --csv out/drill.csv --history out/drill_history.jsonl",
            "budget drill --budget-spec specs/payment_gateway_80_20_mid.yaml --alerts scenarios/alerts_day_800.jsonl "
            "--outages 15,30 --out out/drill_mid.json --csv out/drill_mid.csv",
        ),
        "plan_85_15.token_health_min_15m < 0.6 && plan_80_20_mid.token_health_min_15m >= 0.7 "
        "&& plan_80_20_mid.token_health_min_30m >= 0.5",
        number="6",
        page="pages/5_Drill.py",
    ),
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
        number="7",
        page="pages/7_Gateway.py",
    ),
    Exercise(
        "calibrate",
        "Calibrate, propose, and bring the cheap tier back in stages",
        "advanced",
        (
            "budget calibrate --budget-spec specs/payment_gateway_80_20_mid.yaml "
            "--alerts scenarios/alerts_day_800.jsonl --validation specs/validation/budget_gate.yaml "
            "--out out/recommended.yaml --csv out/sweep.csv",
            "budget propose --incidents-per-day 800 --disputed-share 0.15 --outages-per-month 6 "
            "--out out/starting_plan.yaml",
            "budget simulate --plan specs/budget_network.yaml --scenario scenarios/return_immediate.json "
            "--out out/ret_immediate.json",
            "budget simulate --plan specs/budget_network.yaml --scenario scenarios/return_staged.json "
            "--out out/ret_staged.json",
            'budget inspect --result out/ret_immediate.json --query "recovery.second_dip > 0.05"',
        ),
        "recommended.token_health_min_15m >= 0.7 && recommended.token_health_min_30m >= 0.5 "
        "&& recommended.gateway_passes==true && immediate.recovery.second_dip > 0.05 "
        "&& staged.recovery.second_dip <= 0.05",
        number="8",
        page="pages/6_Calibrate.py",
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


def _traps(spec: BudgetSpec, scenario: Scenario) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for policy in ("ranked", "all_to_frontier", "hold_all"):
        r = simulate(spec, scenario, routing=policy).to_dict()
        critical = [d for d in r["decisions"] if d["severity"] in ("P0", "P1")]
        data[policy] = {
            "token_health_min": r["token_health_min"],
            "p0_p1_tasks": len(critical),
            "p0_p1_sla_breaches": r["sla_breaches"]["P0"] + r["sla_breaches"]["P1"],
        }
    return data


@dataclass(frozen=True)
class SweepDefaults:
    """``budget calibrate``'s sweep when no flag changes it, read from the command line's own parser."""

    shares: tuple[float, ...]
    reserves: tuple[int, ...]
    timeouts: tuple[float, ...]
    thresholds: tuple[float, ...]
    targets: dict[int, float]
    outages: tuple[int, ...]
    start: str


DEFAULT_SWEEP_COMMAND = "calibrate --budget-spec x.yaml --alerts x.jsonl --out x.yaml --csv x.csv"


def sweep_defaults() -> SweepDefaults:
    """The default sweep of ``budget calibrate`` (the Calibrate page's widgets start from it)."""
    from budget.calibration import sweep_grid
    from budget.files import build_parser, outages, targets

    args = build_parser().parse_args(shlex.split(DEFAULT_SWEEP_COMMAND))
    variants = sweep_grid(args)
    return SweepDefaults(
        tuple(sorted({v.frontier_share for v in variants})),
        tuple(sorted({v.reserve for v in variants})),
        tuple(sorted({v.manual_timeout_sec for v in variants})),
        tuple(sorted({v.alert_threshold for v in variants})),
        targets(args.targets),
        tuple(outages(args.outages)),
        args.start,
    )


def sweep_flags(
    shares: list[float],
    reserves: list[int],
    timeouts: list[float],
    thresholds: list[float],
    goals: dict[int, float],
    default: SweepDefaults,
) -> list[str]:
    """The ``budget calibrate`` flags that give this sweep, only those that differ from its defaults."""
    flags = []
    if [round(x, 4) for x in shares] != [round(x, 4) for x in default.shares]:
        step = round(shares[1] - shares[0], 4) if len(shares) > 1 else 0.0
        spread = f"{shares[0]:g}:{shares[-1]:g}:{step:g}" if step else ",".join(f"{x:g}" for x in shares)
        flags.append(f"--frontier-shares {spread}")
    if tuple(sorted(reserves)) != default.reserves:
        flags.append(f"--reserves {','.join(str(r) for r in sorted(reserves))}")
    if tuple(sorted(float(t) for t in timeouts)) != default.timeouts:
        flags.append(f"--timeouts {','.join(f'{t:g}' for t in sorted(timeouts))}")
    if tuple(sorted(thresholds)) != default.thresholds:
        flags.append(f"--thresholds {','.join(f'{t:.2f}' for t in sorted(thresholds))}")
    if goals != default.targets:
        flags.append(f"--targets {','.join(f'{m}:{t:.2f}' for m, t in sorted(goals.items()))}")
    return flags


def _calibrate(specs: Path, scenarios: Path) -> dict[str, Any]:
    """Exercise 8's sweep: the grid its command gets from the CLI's own defaults (one source)."""
    from budget.calibration import sweep_grid
    from budget.files import build_parser

    command = next(c for c in EXERCISES[-1].commands if c.startswith("budget calibrate"))
    args = build_parser().parse_args(shlex.split(command)[1:])
    incidents, _ = load_alerts(scenarios / "alerts_day_800.jsonl")
    cal = calibrate(
        load_spec(specs / "payment_gateway_80_20_mid.yaml"),
        incidents,
        sweep_grid(args),
        checks=load_checks(specs / "validation" / "budget_gate.yaml"),
    )
    best = cal.recommended.to_dict() if cal.recommended else {}
    best["gateway_passes"] = best.get("gateway") == "pass"
    spec10 = load_spec(specs / "budget_network.yaml")
    data: dict[str, Any] = {"recommended": best, "variants": len(cal.rows)}
    for mode in ("immediate", "staged"):
        r = simulate(spec10, load_scenario(scenarios / f"return_{mode}.json", spec10), include_decisions=False)
        data[mode] = {"recovery": r.to_dict()["recovery"]}
    data["starting_plan"] = propose(800, 50_000, 0.15, 6).text
    return data


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
    elif key == "traps":
        data = _traps(spec10, load_scenario(scenarios / "fail_local_45m.json", spec10))
    elif key == "drill":
        incidents, _ = load_alerts(scenarios / "alerts_day_800.jsonl")
        data = {}
        for name in ("85_15", "80_20_mid"):
            drill = run_drill(load_spec(specs / f"payment_gateway_{name}.yaml"), incidents, outages=[15, 30, 45])
            data[f"plan_{name}"] = {
                f"token_health_min_{r['outage_min']}m": r["token_health_min"] for r in drill.runs if r["outage_min"]
            }
    elif key == "calibrate":
        data = _calibrate(specs, scenarios)
    else:  # pragma: no cover - keys come from EXERCISES
        raise KeyError(key)
    return ExerciseRun(ex, evaluate(ex.query, data), data)
