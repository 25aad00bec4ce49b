"""``budget`` command line: compile, assert, simulate, inspect, note, drill, validate, calibrate, propose, review,
fit, export.

Exit codes: 0 ok; 1 a check failed or the input is invalid; 2 a usage error
(bad flags, a malformed inspect query or a field the result does not have).
Errors are one line on stderr; nothing is written when a command fails: every
command checks its inputs and flags first, computes everything, and only then
writes all its outputs together (:class:`budget.fsutil.Outputs`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from budget import __version__
from budget.choices import ALERT_FORMATS, DEFAULT_MAX_SILENT_P0, GATEWAYS, ROUTING_POLICIES, SPEND_LOG_FORMATS
from budget.cliargs import integer, number, outages, say_error, sweep_values, targets
from budget.errors import BudgetError, QueryError, UsageError
from budget.limits import (
    MAX_INCIDENTS_PER_DAY,
    MAX_INT_DIGITS,
    MAX_QUEUE,
    MAX_RESULT_BYTES,
    MAX_SWEEP_REPLAYS,
    MAX_SWEEP_VARIANTS,
    MAX_TOKENS_PER_INCIDENT,
    MAX_WORKERS,
    check_replays,
)

# Each command imports its modules inside its function: `budget --help` and a usage
# error then cost a bare interpreter start, not pydantic, yaml and every command's module.

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
_COMMANDS = (
    "compile",
    "assert",
    "simulate",
    "inspect",
    "drill",
    "validate",
    "calibrate",
    "propose",
    "review",
    "note",
    "fit",
    "export",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        say_error(f"{self.prog}: usage error: {message} (see {self.prog} --help)")
        self.exit(EXIT_USAGE)


def _json(data: Any, name: str) -> str:
    """Output JSON text; a non-finite number is an error, never a bare NaN in a file."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        raise BudgetError(
            f"{name}: the result holds a non-finite number (NaN or infinity); nothing was written"
        ) from None


def _cmd_compile(args: argparse.Namespace) -> int:
    from budget.fsutil import Outputs
    from budget.plan import plan_json, proportion_check, proportion_line, summary_line
    from budget.spec import load_spec, parse_split

    outs = Outputs({"--out": args.out})
    spec = load_spec(args.budget_spec)
    try:
        split = parse_split(args.expect_split, spec.tiers, args.tolerance) if args.expect_split else None
    except BudgetError as exc:
        raise UsageError(f"--expect-split: {exc}") from None
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


def _cmd_assert(args: argparse.Namespace) -> int:
    from budget.assertion import assert_spec

    result = assert_spec(args.budget_spec, args.expect_split, args.tolerance)
    for line in result.lines():
        print(line)
    return EXIT_OK if result.ok else EXIT_FAIL


def _scenario_for(args: argparse.Namespace, spec: Any) -> Any:
    from budget.loader import load_document
    from budget.scenario import DEFAULT_MANUAL_TIMEOUT_SEC, parse_failure, scenario_from_dict, scenario_from_document

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
        data.update(parse_failure(args.failure))
    if args.queue is None:
        raise UsageError('give --scenario FILE, or --queue N (with --failure "11:00,local-coder,down,45m")')
    data["queue"] = args.queue
    data["manual_timeout_sec"] = (
        args.manual_timeout_sec if args.manual_timeout_sec is not None else DEFAULT_MANUAL_TIMEOUT_SEC
    )
    if args.seed is not None:
        data["seed"] = args.seed
    return scenario_from_dict(data, spec, name="--failure")


def _cmd_simulate(args: argparse.Namespace) -> int:
    from budget.fsutil import Outputs
    from budget.keeper import manual_key, simulate
    from budget.plan import load_plan

    outs = Outputs({"--out": args.out})
    spec = load_plan(args.plan)
    scenario = _scenario_for(args, spec)
    result = simulate(spec, scenario, routing=args.policy).to_dict()
    outs.set("--out", _json(result, args.out))
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
        f"failover_to_frontier {result['failover_to_frontier']}, degraded_queue {result['degraded_queue']}, "
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
    return EXIT_OK


def _load_result(path: str) -> dict[str, Any]:
    from budget.loader import load_document

    doc = load_document(path, limit=MAX_RESULT_BYTES)
    if not isinstance(doc.data, dict):
        raise BudgetError(f"{doc.name}: not a result (a JSON object)")
    return doc.data


def _cmd_inspect(args: argparse.Namespace) -> int:
    from budget.query import evaluate, format_value

    data = _load_result(args.result)
    outcome = evaluate(args.query, data)
    width = max(len(c.text) for c in outcome.clauses) if outcome.clauses else 0
    for c in outcome.clauses:
        print(f"  {'ok  ' if c.ok else 'FAIL'}  {c.text.ljust(width)}  actual {format_value(c.actual)}")
    n = len(outcome.clauses)
    failed = sum(1 for c in outcome.clauses if not c.ok)
    if outcome.ok:
        print(f"PASS: the query holds ({n - failed} of {n} clauses true)")
        return EXIT_OK
    print(f"FAIL: the query does not hold ({failed} of {n} clauses false)")
    return EXIT_FAIL


def _cmd_note(args: argparse.Namespace) -> int:
    from budget.fsutil import check_output
    from budget.note import entry_from_result, write_note

    check_output(args.out, "--out")
    data = _load_result(args.result)
    entry = entry_from_result(
        data,
        case=args.case,
        risk=args.risk,
        effect=args.effect,
        alert_threshold=args.alert_threshold,
        decision=args.decision,
        source=args.result,
    )
    write_note(args.out, entry, replace=args.replace)
    print(f"wrote case {entry.case!r} to {args.out}")
    print(
        f"simulated_floor {entry.simulated_floor:.2f}, alert_threshold {entry.alert_threshold:.2f}: "
        f"warning zone {entry.simulated_floor:.2f} <= token_health_min < {entry.alert_threshold:.2f}"
    )
    return EXIT_OK


def _cmd_drill(args: argparse.Namespace) -> int:
    from budget.days import load_days
    from budget.drill import apply_history, drill_csv, read_history, run_drill
    from budget.drilldays import days_csv, days_json, summary_lines
    from budget.fsutil import Outputs
    from budget.plan import load_plan
    from budget.units import parse_clock

    if bool(args.budget_spec) == bool(args.plan):
        raise UsageError("give one of --budget-spec or --plan")
    outs = Outputs({"--out": args.out, "--csv": args.csv, "--history": args.history})
    lengths = outages(args.outages)
    parse_clock(args.start, "--start")
    source = args.budget_spec or args.plan
    spec = load_plan(source)
    history = load_days(args.alerts, args.format, args.severity_map)
    past = read_history(args.history, str(source)) if args.history else None
    results = [
        run_drill(
            spec,
            day.incidents,
            outages=lengths,
            start=args.start,
            down_tier=args.down_tier,
            fail_under=args.fail_under,
            report=day.report,
            spec_name=str(source),
            evidence=bool(args.history),  # what budget review reads, kept when a history is written
        )
        for day in history.days
    ]
    if past is not None:
        for result in results:  # one record a day, in date order, each compared with the one before
            text = apply_history(result, past)
            past = read_history_text(past, text, str(source))
        outs.set("--history", text)
    several = history.several
    outs.set("--out", days_json(results) if several else results[0].to_json())
    if "--csv" in outs:
        outs.set("--csv", days_csv(results) if several else drill_csv(results[0]))
    outs.commit()
    for line in history.summary_lines():
        print(line)
    failed = False
    for day, result in zip(history.days, results, strict=True):
        failed = _print_drill(result, str(source), day.day if several else "") or failed
    if several:
        for line in summary_lines(results):
            print(line)
    print(f"wrote {args.out}" + (f" and {args.csv}" if args.csv else ""))
    return EXIT_FAIL if failed else EXIT_OK


def read_history_text(past: Any, text: str, spec_name: str) -> Any:
    """The history as it stands after this run's record (the next day of a drill compares with it)."""
    from budget.drill import History

    lines = tuple(ln for ln in text.splitlines() if ln.strip())
    return History(past.path, lines, json.loads(lines[-1]))


def _print_drill(result: Any, source: str, day: str) -> bool:
    """One day's drill as the CLI prints it; True when it fails (an outage below the guard, a review asked)."""
    print(
        f"drill of {source}" + (f" on {day}" if day else "") + f": {result.down_tier} down from {result.start}; "
        f"guard {result.fail_under:.2f}"
    )
    print(result.table())
    below = result.below_guard
    print(
        "verdict: "
        + (
            f"token_health_min below {result.fail_under:.2f} at {', '.join(f'{m}m' for m in below)}"
            if below
            else f"every outage holds the {result.fail_under:.2f} guard"
        )
    )
    if result.review:
        if result.review["required"]:
            print("review the proportions: " + "; ".join(result.review["reasons"]))
        else:
            print(f"history: run {result.review['run']}, no review rule triggered")
    return bool(below or result.review.get("required"))


def _cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 pass, 1 a check failed, 2 unusable input (every input error, a gate that checks nothing)."""
    from budget.validation import load_rules
    from budget.validation import run as run_validation

    try:
        rules = load_rules(args.validation)
        data = _load_result(args.metrics)
        baseline = _load_result(args.baseline) if args.baseline else None
        verdict = run_validation(rules, data, args.metrics, baseline, args.baseline)
    except BudgetError as exc:
        if args.json:
            print(json.dumps({"verdict": "error", "exit_code": EXIT_USAGE, "error": str(exc)}, indent=2))
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in verdict.lines():
            print(line)
    return verdict.exit_code


def _cmd_review(args: argparse.Namespace) -> int:
    """Exit 1 when a signal fires, 0 when none does, 2 when no signal has the data to be evaluated."""
    from budget.review import load_history, review

    result = review(load_history(args.history), args.history, args.spec)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in result.lines():
            print(line)
    if not result.evaluated:
        raise UsageError(f"{args.history}: no signal could be evaluated: the history is too short or too old")
    return EXIT_FAIL if result.fired else EXIT_OK


def sweep_grid(args: argparse.Namespace) -> list[Any]:
    """The variants ``budget calibrate``'s flags (or their defaults) describe; the Home page runs the same."""
    from budget.calibrate import grid

    variants = grid(
        sweep_values(args.frontier_shares, "--frontier-shares", 0, 1, above=True),
        sweep_values(args.reserves, "--reserves", 0, 10**MAX_INT_DIGITS - 1, int),
        sweep_values(args.timeouts, "--timeouts", 0, 86400, above=True),
        sweep_values(args.thresholds, "--thresholds", 0, 1),
    )
    if len(variants) > MAX_SWEEP_VARIANTS:
        raise UsageError(f"the sweep has {len(variants):,} variants, over the limit of {MAX_SWEEP_VARIANTS:,}")
    return variants


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from budget.calibrate import calibrate, price_of, spec_yaml
    from budget.days import load_days
    from budget.fsutil import Outputs
    from budget.gate import load_checks
    from budget.plan import load_plan
    from budget.units import parse_clock

    outs = Outputs({"--out": args.out, "--csv": args.csv})
    variants = sweep_grid(args)
    lengths = outages(args.outages)
    goals = targets(args.targets)
    parse_clock(args.start, "--start")
    base = load_plan(args.budget_spec)
    history = load_days(args.alerts, args.format)
    replays = len(variants) * len(lengths)
    check_replays(
        "calibrate", sum(len(d.incidents) for d in history.days), replays, MAX_SWEEP_REPLAYS, "give a smaller sweep"
    )
    checks = load_checks(args.validation) if args.validation else None
    last = [-1]

    def progress(f: float) -> None:
        pct = int(f * 100) // 10 * 10
        if pct != last[0]:
            last[0] = pct
            print(f"  sweep {pct:3d}%", file=sys.stderr, flush=True)

    result = calibrate(
        base,
        {d.day: d.incidents for d in history.days} if history.several else history.days[0].incidents,
        variants,
        outages=lengths,
        start=args.start,
        targets=goals,
        max_silent_p0=args.max_silent_p0,
        checks=checks,
        workers=min(args.workers, os.cpu_count() or 1) if args.workers else None,  # never more than the cores
        progress=None if args.quiet or not sys.stderr.isatty() else progress,
        base_name=args.budget_spec,
        scheduler=args.scheduler,
    )
    best = result.recommended
    goal_text = ", ".join(f"{m}m >= {t:.2f}" for m, t in sorted(result.targets.items()))
    if result.max_silent_p0 is not None:
        goal_text += f", silent_p0 <= {result.max_silent_p0:.2f}"
    passing = sum(1 for r in result.rows if r.meets)
    swept = (
        f"swept {len(result.rows)} variants of {args.budget_spec}: {passing} meet {goal_text}"
        + (" and the gateway" if checks else "")
        + (f" on every one of {len(history.days)} days" if history.several else "")
    )
    if best is None or result.recommended_spec is None:
        closest = max(result.rows, key=lambda r: (min(r.floors.values(), default=0.0), -r.index))
        for line in history.summary_lines():
            print(line)
        print(swept)
        print(f"closest: variant {closest.index} ({closest.why})")
        print("no variant meets the targets: widen the sweep (larger reserves or frontier shares); nothing written")
        return EXIT_FAIL
    v = best.variant
    floors = ", ".join(f"{m}m {f:.2f}" for m, f in sorted(best.floors.items()))
    header = (
        f"Recommended by budget calibrate from {args.budget_spec} over {', '.join(args.alerts)}:\n"
        f"frontier share {v.frontier_share:.1%}, control_reserve {v.reserve:,}, manual timeout "
        f"{v.manual_timeout_sec:g}s, guard {v.alert_threshold:.2f}\n"
        f"token_health_min {floors}; {best.daily_budget_tokens:,} tokens a day, {best.cost:.2f} a day"
    )
    outs.set("--csv", result.csv())
    outs.set("--out", spec_yaml(result.recommended_spec, header))
    outs.commit()
    for line in history.summary_lines():
        print(line)
    print(f"{swept}; table in {args.csv}")
    print(
        f"recommended: frontier {v.frontier_share:.1%}, control_reserve {v.reserve:,}, manual timeout "
        f"{v.manual_timeout_sec:g}s, guard {v.alert_threshold:.2f}"
    )
    print(f"  token_health_min {floors}")
    print(
        f"  {best.daily_budget_tokens:,} tokens a day, {best.cost:.2f} a day at the policy's prices "
        f"(base plan: {price_of(base):.2f})"
    )
    print(f"wrote {args.out}")
    return EXIT_OK


def _cmd_propose(args: argparse.Namespace) -> int:
    from budget.calibrate import propose
    from budget.fsutil import Outputs

    outs = Outputs({"--out": args.out})
    p = propose(args.incidents_per_day, args.incident_tokens, args.disputed_share, args.outages_per_month)
    outs.set("--out", p.text)
    outs.commit()
    for r in p.reasons:
        print(r)
    print(
        f"split {round(100 * (1 - p.frontier_share))}/{round(100 * p.frontier_share)}, control_reserve "
        f"{p.reserve_share:.0%} of {p.daily_budget_tokens:,}; wrote {args.out}"
    )
    return EXIT_OK


def _cmd_fit(args: argparse.Namespace) -> int:
    from budget.fit import fit_spend_log, parse_tier_map
    from budget.fsutil import Outputs
    from budget.plan import load_plan
    from budget.spendlog import read_spend_log

    outs = Outputs({"--out": args.out})
    tier_map = parse_tier_map(args.tier_map)
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()] if args.tiers else None
    spec = load_plan(args.budget_spec) if args.budget_spec else None
    fit = fit_spend_log(read_spend_log(args.spend_logs, args.format), tier_map, tiers, spec)
    outs.set("--out", fit.fragment_yaml())
    outs.commit()
    for line in fit.summary_lines():
        print(line)
    where = os.path.relpath(args.out, os.path.dirname(args.budget_spec) or ".") if args.budget_spec else args.out
    print(f"wrote {args.out}; a spec uses it with `include: {where}` (a path relative to the spec)")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from budget.export import export_text, limits_json
    from budget.export import summary_lines as export_summary
    from budget.fsutil import Outputs
    from budget.plan import load_plan

    outs = Outputs({"--out": args.out, "--limits-out": args.limits_out})
    spec = load_plan(args.budget_spec)
    outs.set("--out", export_text(spec, args.to, args.budget_spec))
    if "--limits-out" in outs:
        outs.set("--limits-out", limits_json(spec))
    outs.commit()
    kind = "LiteLLM proxy config" if args.to == "litellm" else "Portkey config"
    print(f"exported {args.budget_spec} -> {args.out} ({kind})")
    for line in export_summary(spec, args.to):
        print(line)
    if args.limits_out:
        print(f"wrote the per-tier limits to {args.limits_out}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="budget", description="Tiered model routing under a daily token budget.")
    parser.add_argument("--version", action="version", version=f"budget {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("compile", help="compile a budget spec into a plan JSON")
    c.add_argument("--budget-spec", required=True, metavar="SPEC", help="budget_network.yaml")
    c.add_argument("--out", required=True, metavar="PLAN", help="where to write the plan JSON")
    c.add_argument("--expect-split", metavar="90/10", help="target share per tier, cheapest first")
    c.add_argument("--tolerance", type=number(0, 100), default=1.0, metavar="PT", help="allowed deviation, points (1)")
    c.set_defaults(func=_cmd_compile)

    a = sub.add_parser("assert", help="a spec's compile-time checks (sum, split, tiers, phases), no output")
    a.add_argument("--budget-spec", required=True, metavar="SPEC", help="budget_network.yaml")
    a.add_argument("--expect-split", metavar="90/10", help="target share per tier, cheapest first")
    a.add_argument("--tolerance", type=number(0, 100), default=1.0, metavar="PT", help="allowed deviation, points (1)")
    a.set_defaults(func=_cmd_assert)

    s = sub.add_parser("simulate", help="run the minute-by-minute budget keeper over an outage scenario")
    s.add_argument("--plan", required=True, metavar="PLAN", help="plan JSON (or a spec YAML)")
    s.add_argument("--scenario", metavar="JSON", help="scenario file (down_tier, start, duration_min, queue, ...)")
    s.add_argument("--failure", metavar='"11:00,local-coder,down,45m"', help="the chapter's production form")
    s.add_argument(
        "--queue", type=integer(0, MAX_QUEUE), metavar="N", help="incidents in the queue (overrides the scenario)"
    )
    s.add_argument(
        "--manual-timeout-sec", type=number(0, 86400, above=True), metavar="SEC", help="degraded -> manual after (120)"
    )
    s.add_argument("--seed", type=integer(), metavar="N", help="seed of the incident generator")
    s.add_argument("--policy", choices=ROUTING_POLICIES, help="routing policy (ranked)")
    s.add_argument("--out", required=True, metavar="RESULT", help="where to write the result JSON")
    s.set_defaults(func=_cmd_simulate)

    i = sub.add_parser("inspect", help="check a result with a query such as 'a==5 && b>=0.5'")
    i.add_argument("--result", required=True, metavar="RESULT")
    i.add_argument("--query", required=True, metavar="QUERY")
    i.set_defaults(func=_cmd_inspect)

    d = sub.add_parser("drill", help="replay a day of alerts with the cheap tier off for 15/30/45 minutes")
    d.add_argument("--budget-spec", metavar="SPEC", help="budget_network.yaml")
    d.add_argument("--plan", metavar="PLAN", help="a compiled plan JSON instead of a spec")
    d.add_argument(
        "--alerts",
        required=True,
        action="append",
        metavar="FILE",
        help="CSV, JSONL, Alertmanager, Grafana or PagerDuty; repeat for several files; each day (UTC) is drilled",
    )
    d.add_argument("--format", choices=ALERT_FORMATS, help="the alert format (detected when left out)")
    d.add_argument("--severity-map", metavar="YAML", help="override the severity mapping")
    d.add_argument("--outages", default="15,30,45", metavar="15,30,45", help="outage lengths, minutes")
    d.add_argument("--start", default="11:00", metavar="HH:MM", help="when the outage starts (11:00)")
    d.add_argument("--down-tier", metavar="TIER", help="the tier switched off (the cheapest)")
    d.add_argument(
        "--fail-under", type=number(0, 1), metavar="X", help="guard for the exit code (spec's alert_threshold)"
    )
    d.add_argument("--history", metavar="JSONL", help="append this run and apply the review rules")
    d.add_argument("--out", required=True, metavar="JSON", help="where to write the drill result")
    d.add_argument("--csv", metavar="CSV", help="also write the table as CSV")
    d.set_defaults(func=_cmd_drill)

    v = sub.add_parser("validate", help="the anti-Goodhart gateway: evaluate checks on a result's metrics")
    v.add_argument(
        "--validation",
        required=True,
        metavar="FILE",
        help="rules: the chapter's checks or chapter 10's invariants/checks (YAML, or Markdown with a yaml block)",
    )
    v.add_argument("--metrics", required=True, metavar="JSON", help="a simulate or drill result, or plain metrics")
    v.add_argument("--baseline", metavar="JSON", help="last release's metrics with edge_correlations (drift guard)")
    v.add_argument("--json", action="store_true", help="print the whole verdict as JSON")
    v.set_defaults(func=_cmd_validate)

    c2 = sub.add_parser("calibrate", help="sweep split, reserve, timeout and guard against outage drills")
    c2.add_argument("--budget-spec", required=True, metavar="SPEC")
    c2.add_argument(
        "--alerts", required=True, action="append", metavar="FILE", help="repeat for several files; every day counts"
    )
    c2.add_argument("--format", choices=ALERT_FORMATS)
    c2.add_argument("--frontier-shares", default="0.05:0.30:0.025", metavar="A:B:STEP")
    c2.add_argument("--reserves", default="700000,1000000,1500000,2000000,3000000", metavar="LIST")
    c2.add_argument("--timeouts", default="60,120", metavar="SECONDS")
    c2.add_argument("--thresholds", default="0.60,0.65", metavar="LIST")
    c2.add_argument("--outages", default="15,30,45", metavar="15,30,45")
    c2.add_argument("--start", default="11:00", metavar="HH:MM")
    c2.add_argument("--targets", default="15:0.70,30:0.50", metavar="15:0.70,30:0.50")
    c2.add_argument(
        "--max-silent-p0",
        type=number(0, 1),
        default=DEFAULT_MAX_SILENT_P0,
        metavar="X",
        help="most P0 closed without escalation at any outage (0.02, the anti-Goodhart line)",
    )
    c2.add_argument("--validation", default=None, metavar="YAML", help="gateway checks every variant must pass")
    c2.add_argument("--workers", type=integer(1, MAX_WORKERS), default=None, help="processes (all cores)")
    c2.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the sweep on a Dask cluster (tcp://host:8786) instead of local processes",
    )
    c2.add_argument("--quiet", action="store_true", help="no progress on stderr")
    c2.add_argument("--out", required=True, metavar="YAML", help="the recommended spec")
    c2.add_argument("--csv", required=True, metavar="CSV", help="the whole sweep")
    c2.set_defaults(func=_cmd_calibrate)

    pr = sub.add_parser("propose", help="a starting plan from the chapter's Low / Default / High table")
    pr.add_argument("--incidents-per-day", type=integer(1, MAX_INCIDENTS_PER_DAY), required=True)
    pr.add_argument(
        "--incident-tokens", type=integer(1, MAX_TOKENS_PER_INCIDENT), default=50_000, help="cost of an incident"
    )
    pr.add_argument("--disputed-share", type=number(0, 1), default=0.10, help="share of disputed reviews (0.10)")
    pr.add_argument("--outages-per-month", type=number(0, 1000), default=3, help="local-coder outages a month (3)")
    pr.add_argument("--out", required=True, metavar="YAML")
    pr.set_defaults(func=_cmd_propose)

    f = sub.add_parser("fit", help="fit a spec's workload (policy fragment) from a LiteLLM spend log")
    f.add_argument("--spend-logs", required=True, metavar="FILE", help="/spend/logs JSON or LiteLLM_SpendLogs CSV")
    f.add_argument("--format", choices=SPEND_LOG_FORMATS, help="json or csv (detected when left out)")
    f.add_argument("--tier-map", action="append", metavar="GROUP=TIER", help="model_group to tier (repeatable)")
    f.add_argument("--tiers", metavar="A,B,C", help="tier order, cheapest first (else the spec's, else by price)")
    f.add_argument("--budget-spec", metavar="SPEC", help="the spec the fragment is for: its tiers and phases")
    f.add_argument("--out", required=True, metavar="YAML", help="the policy fragment to write")
    f.set_defaults(func=_cmd_fit)

    e = sub.add_parser("export", help="write a plan as a LiteLLM proxy config or a Portkey config")
    e.add_argument("--budget-spec", required=True, metavar="SPEC", help="a spec YAML or a compiled plan JSON")
    e.add_argument("--to", required=True, choices=GATEWAYS, help="the gateway")
    e.add_argument("--out", required=True, metavar="FILE", help="config.yaml (litellm) or config JSON (portkey)")
    e.add_argument("--limits-out", metavar="JSON", help="also write each tier's tpm, tokens and USD a day")
    e.set_defaults(func=_cmd_export)
    rv = sub.add_parser("review", help="the signals to revisit the thresholds, from a drill history")
    rv.add_argument("--history", required=True, metavar="JSONL", help="the drill's --history file")
    rv.add_argument("--spec", metavar="SPEC", help="whose records to read (the last record's spec)")
    rv.add_argument("--json", action="store_true", help="print the signals as JSON")
    rv.set_defaults(func=_cmd_review)

    n = sub.add_parser("note", help="write a case into capstone/budget-note.md from a result")
    n.add_argument("--result", required=True, metavar="RESULT")
    n.add_argument("--case", required=True, metavar="NAME", help="e.g. high_memory_usage")
    n.add_argument("--risk", help='default: "<tier> unavailable <N>m"')
    n.add_argument("--effect", help="default: from the result")
    n.add_argument("--alert-threshold", type=number(0, 1), help="the guard (the result's, 0.60)")
    n.add_argument("--decision", help='default: "do not transfer entire queue to expensive tier"')
    n.add_argument("--out", default="capstone/budget-note.md", metavar="NOTE")
    n.add_argument("--replace", action="store_true", help="replace the case if the note has it")
    n.set_defaults(func=_cmd_note)
    return parser


def _streams_never_fail() -> None:
    """A file name that is not valid UTF-8 is printed escaped instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv: list[str] | None = None) -> int:
    """Run one command; always returns an exit code (0 ok, 1 failed check or invalid input, 2 usage)."""
    _streams_never_fail()
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            sub = f"budget {args.command}" if getattr(args, "command", None) else "budget"
            shown = " ".join(repr(a) for a in extra[:5]) + (" ..." if len(extra) > 5 else "")
            say_error(f"{sub}: usage error: unrecognized arguments: {shown} (see {sub} --help)")
            return EXIT_USAGE
    except SystemExit as exc:  # --help, --version, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command = getattr(args, "command", None)
    if not command:
        say_error(f"budget: usage error: give a command ({', '.join(_COMMANDS)}); see budget --help")
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except (QueryError, UsageError) as exc:
        say_error(f"budget: error: {exc}")
        return EXIT_USAGE
    except BudgetError as exc:
        say_error(f"budget: error: {exc}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        say_error("budget: interrupted")
        return 130
    except RecursionError:
        say_error(f"budget {command}: error: input nested too deeply")
        return EXIT_FAIL
    except MemoryError:
        say_error(f"budget {command}: error: input too large to process")
        return EXIT_FAIL
    except OSError as exc:
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        say_error(f"budget {command}: error: {name}{exc.strerror or exc}")
        return EXIT_FAIL
    except Exception as exc:  # last resort: a bug must still answer in one line, never a traceback
        say_error(f"budget {command}: internal error: {type(exc).__name__}: {exc} (please report this)")
        return EXIT_FAIL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()


__all__ = ["main", "build_parser"]
