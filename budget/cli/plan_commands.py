"""``budget compile``, ``assert``, ``simulate``, ``inspect`` and ``note``: a spec, its plan, one run, its result.

Each command imports its modules inside its function: ``budget --help`` stays a bare interpreter start.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from budget.cli.flags import flag_value
from budget.errors import BudgetError, UsageError
from budget.files import (
    EXIT_FAIL,
    EXIT_OK,
    MAX_RESULT_BYTES,
)


def json_text(data: Any, name: str) -> str:
    """Output JSON text; a non-finite number is an error, never a bare NaN in a file."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        raise BudgetError(
            f"{name}: the result holds a non-finite number (NaN or infinity); nothing was written"
        ) from None


def cmd_compile(args: argparse.Namespace) -> int:
    from budget.files import Outputs
    from budget.model import (
        load_spec,
        parse_split,
        plan_json,
        proportion_check,
        proportion_line,
        split_parts,
        summary_line,
    )

    outs = Outputs({"--out": args.out}, inputs={"--budget-spec": args.budget_spec})
    if args.expect_split:
        flag_value("--expect-split", split_parts, args.expect_split)  # its form, before the spec is read
    spec = load_spec(args.budget_spec)
    outs.also_inputs({"include:": spec.included})
    split = (
        flag_value("--expect-split", parse_split, args.expect_split, spec.tiers, args.tolerance)
        if args.expect_split
        else None
    )
    checks = proportion_check(spec, split)
    if checks[0].target_pct is not None and not all(c.ok for c in checks):  # a failed check writes no plan
        print(summary_line(spec))
        print(proportion_line(checks) + f"; {args.out} not written")
        return EXIT_FAIL
    outs.set("--out", plan_json(spec))
    outs.commit()
    print(f"compiled {args.budget_spec} -> {args.out}")
    print(summary_line(spec))
    print(proportion_line(checks))
    return EXIT_OK


def cmd_assert(args: argparse.Namespace) -> int:
    from budget.gateway import assert_spec

    result = assert_spec(args.budget_spec, args.expect_split, args.tolerance)
    for line in result.lines():
        print(line)
    return EXIT_OK if result.ok else EXIT_FAIL


def scenario_for(args: argparse.Namespace, spec: Any) -> Any:
    from budget.files import load_document
    from budget.model import (
        DEFAULT_MANUAL_TIMEOUT_SEC,
        parse_failure,
        scenario_from_dict,
        scenario_from_document,
    )

    if args.scenario and args.failure:
        raise UsageError("give either --scenario or --failure, not both")
    if args.scenario:
        doc = load_document(args.scenario)
        if not isinstance(doc.data, dict):
            raise BudgetError(f"{args.scenario}: must be a JSON object with down_tier, start, duration_min, queue")
        fields = dict(doc.data)
        overrides = {"queue": args.queue, "manual_timeout_sec": args.manual_timeout_sec, "seed": args.seed}
        for key, value in overrides.items():
            if value is not None:
                fields[key] = value
                if key == "queue":
                    fields.pop("incidents", None)
        doc.data = fields
        return scenario_from_document(doc, spec)
    data: dict[str, Any] = {}
    if args.failure:
        data.update(parse_failure(args.failure, spec.tiers))
    if args.queue is None:
        raise UsageError('give --scenario FILE, or --queue N (with --failure "11:00,local-coder,down,45m")')
    data["queue"] = args.queue
    data["manual_timeout_sec"] = (
        args.manual_timeout_sec if args.manual_timeout_sec is not None else DEFAULT_MANUAL_TIMEOUT_SEC
    )
    if args.seed is not None:
        data["seed"] = args.seed
    return scenario_from_dict(data, spec, name="--failure")


def cmd_simulate(args: argparse.Namespace) -> int:
    from budget.files import Outputs
    from budget.keeper import failover_summary, manual_key, simulate
    from budget.model import load_plan, parse_failure

    outs = Outputs({"--out": args.out}, inputs={"--plan": args.plan, "--scenario": args.scenario})
    if args.failure:
        parse_failure(args.failure)  # its form, before the plan is read; its tier once the plan is
    spec = load_plan(args.plan)
    outs.also_inputs({"include:": spec.included})
    scenario = scenario_for(args, spec)
    result = simulate(spec, scenario, routing=args.policy).to_dict()
    outs.set("--out", json_text(result, args.out))
    outs.commit()
    mk = manual_key(result["manual_timeout_sec"])
    print(f"simulated {scenario.source} on {args.plan} ({result['policy']}) -> {args.out}")
    outage = (
        f"{result['down_tier']} down {result['duration_min']}m from {result['start']}"
        if result["down_tier"]
        else "no outage"
    )
    print(f"{outage}; queue {result['queue']}; manual timeout {result['manual_timeout_sec']}s")
    print(
        f"{failover_summary(result)}, degraded_queue {result['degraded_queue']}, "
        f"{mk} {result[mk]}, reserve_capacity_tasks {result['reserve_capacity_tasks']}"
    )
    guard = result["guard"]
    verdict = (
        f"breaches the {guard['alert_threshold']:.2f} guard (first at {guard['first_breach']}): red-button review"
        if guard["breached"]
        else f"holds the {guard['alert_threshold']:.2f} guard"
    )
    print(f"token_health_min {result['token_health_min']:.4f} at {result['token_health_min_at']}: {verdict}")
    print(
        f"mttr_p95 {result['mttr_p95']}s, escalation_share {result['escalation_share']:.2f}, "
        f"silent_p0 {result['silent_p0']:.2f}, SLA breaches "
        + ", ".join(f"{k} {v}" for k, v in result["sla_breaches"].items())
    )
    recovery = result.get("recovery") or {}
    if recovery.get("mode", "instant") != "instant":  # a return scenario: what the tier's return did
        print(return_line(recovery))
    if args.explain:
        from budget.workbench import explain_result

        for line in explain_result(result, spec).lines():
            print(line)
    return EXIT_OK


def return_line(recovery: dict[str, Any]) -> str:
    """``return staged: second dip 0.00, 0 relapses; 3 stages (11:30, 11:44, 11:49)``."""
    from budget.files import count_of

    relapses, stages = recovery.get("relapses") or [], recovery.get("stages") or []
    line = f"return {recovery['mode']}: second dip {recovery['second_dip']:.2f}, {count_of(len(relapses), 'relapse')}"
    if relapses:
        line += " (" + "; ".join(f"{r['tier']} down again at {r['time']}" for r in relapses) + ")"
    if stages:
        line += f"; {count_of(len(stages), 'stage')} (" + ", ".join(st["time"] for st in stages) + ")"
    return line


def load_result(path: str) -> dict[str, Any]:
    from budget.files import load_document
    from budget.traffic import is_live_state, result_from_state

    if is_live_state(path):  # a live keeper's state: its day in the simulator's terms
        return result_from_state(path)

    doc = load_document(path, limit=MAX_RESULT_BYTES)
    if not isinstance(doc.data, dict):
        raise BudgetError(f"{doc.name}: not a result (a JSON object)")
    return doc.data


def cmd_inspect(args: argparse.Namespace) -> int:
    from budget.files import count_of
    from budget.gateway import evaluate, seconds_with_unit

    data = load_result(args.result)
    outcome = evaluate(args.query, data)
    width = max(len(c.text) for c in outcome.clauses) if outcome.clauses else 0
    for c in outcome.clauses:
        print(f"  {'ok  ' if c.ok else 'FAIL'}  {c.text.ljust(width)}  actual {seconds_with_unit(c.text, c.actual)}")
    n = len(outcome.clauses)
    failed = sum(1 for c in outcome.clauses if not c.ok)
    if outcome.ok:
        print(f"PASS: the query holds ({n - failed} of {count_of(n, 'clause')} true)")
        return EXIT_OK
    print(f"FAIL: the query does not hold ({failed} of {count_of(n, 'clause')} false)")
    return EXIT_FAIL


def cmd_note(args: argparse.Namespace) -> int:
    from budget.files import Outputs
    from budget.workbench import entry_from_result, write_note

    Outputs({"--out": args.out}, inputs={"--result": args.result})  # checked before anything runs
    data = load_result(args.result)
    try:
        entry = entry_from_result(
            data,
            case=args.case,
            risk=args.risk,
            effect=args.effect,
            alert_threshold=args.alert_threshold,
            decision=args.decision,
            source=args.result,
        )
    except BudgetError as exc:
        raise _note_flag_error(exc, args) from None
    write_note(args.out, entry, replace=args.replace)
    print(f"wrote case {entry.case!r} to {args.out}")
    print(entry.verdict_line())
    return EXIT_OK


def _note_flag_error(exc: BudgetError, args: argparse.Namespace) -> BudgetError:
    """A note field the user gave (``--case``, ``--risk``, ``--effect``, ``--decision``) that the note refuses is
    a usage error naming the flag; a field filled from the result (its defaults) stays invalid input."""
    text = str(exc)
    for field in ("case", "risk", "effect", "decision"):
        given = field == "case" or getattr(args, field)  # an empty --risk means the default, from the result
        if given and text.startswith(f"note: {field}: "):
            return UsageError(f"--{field}: " + text.removeprefix(f"note: {field}: "))
    return exc
