"""``budget drill``, ``review`` and ``validate``: a day of alerts replayed, its history, the gateway's checks."""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import Any, NoReturn

from budget.cli.flags import flag_value
from budget.cli.plan_commands import load_result
from budget.errors import BudgetError, UsageError
from budget.files import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    MAX_DRILL_DAY_RUNS,
    MAX_DRILL_REPLAYS,
    MAX_RESULT_BYTES,
    check_day_runs,
    check_replays,
    locked,
    outages,
)


def cmd_drill(args: argparse.Namespace) -> int:
    from budget.drill import days_csv, days_json, drill_csv, load_days, read_history, run_drill, summary_lines
    from budget.files import Outputs
    from budget.model import load_plan, parse_clock

    if bool(args.budget_spec) == bool(args.plan):
        raise UsageError("give one of --budget-spec or --plan")
    inputs = {"--budget-spec": args.budget_spec, "--plan": args.plan, "--alerts": args.alerts}
    outs = Outputs(
        {"--out": args.out, "--csv": args.csv, "--history": args.history},
        inputs={**inputs, "--severity-map": args.severity_map},
    )
    lengths = outages(args.outages)
    flag_value("--start", parse_clock, args.start, "--start")
    source = args.budget_spec or args.plan
    spec = load_plan(source)
    outs.also_inputs({"include:": spec.included})
    if args.down_tier is not None and args.down_tier not in spec.tiers:  # before the alerts are read
        raise UsageError(f"--down-tier: unknown tier {args.down_tier!r} (the plan's tiers: {', '.join(spec.tiers)})")
    history = load_days(args.alerts, args.format, args.severity_map)
    runs = len(lengths) + 1  # the outages and the baseline
    check_day_runs("drill", len(history.days), runs, MAX_DRILL_DAY_RUNS, "drill fewer days at a time")
    check_replays("drill", sum(len(d.incidents) for d in history.days), runs, MAX_DRILL_REPLAYS, "give fewer outages")
    if args.history:
        read_history(args.history, str(source))  # a broken history stops the drill before it runs
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
    several = history.several
    with locked(args.history) if args.history else contextlib.nullcontext():
        if args.history:  # read again under the lock: a drill running beside this one may have appended
            outs.set("--history", append_history(results, args.history, str(source)))
        outs.set("--out", result_text(days_json(results) if several else results[0].to_json(), args.out))
        if "--csv" in outs:
            outs.set("--csv", days_csv(results) if several else drill_csv(results[0]))
        outs.commit()
    for line in history.summary_lines():
        print(line)
    failed = False
    for day, result in zip(history.days, results, strict=True):
        failed = print_drill(result, str(source), day.day if several else "") or failed
        if args.explain:
            print_explanation(spec, day.incidents, result)
    if several:
        for line in summary_lines(results):
            print(line)
    failed = skipped_verdict(history.files, args.accept_skipped) or failed
    print(f"wrote {args.out}" + (f" and {args.csv}" if args.csv else ""))
    return EXIT_FAIL if failed else EXIT_OK


def result_text(text: str, name: str) -> str:
    """The drill's result, never larger than what inspect and validate read back (MAX_RESULT_BYTES)."""
    size = len(text.encode("utf-8"))
    if size > MAX_RESULT_BYTES:
        raise BudgetError(
            f"{name}: the result would be {size:,} bytes, over the {MAX_RESULT_BYTES:,} that inspect and validate "
            "read; drill fewer days at a time (nothing was written)"
        )
    return text


def append_history(results: list[Any], path: str, spec_name: str) -> str:
    """The history's new text: one record a day, in date order, each compared with the one before."""
    from budget.drill import apply_history, read_history

    past = read_history(path, spec_name)
    text = ""
    for result in results:
        text = apply_history(result, past)
        past = read_history_text(past, text, spec_name)
    return text


def skipped_verdict(reports: Any, accept: bool) -> bool:
    """Say what the import skipped; True (the drill fails) when records were skipped and not accepted."""
    skipped = sum(len(r.skipped) for r in reports)
    if not skipped:
        return False
    records = sum(r.records for r in reports)
    if accept:
        print(f"verdict: {skipped:,} of {records:,} alert records skipped, accepted (--accept-skipped)")
        return False
    print(
        f"verdict: {skipped:,} of {records:,} alert records skipped (reasons above): the drill did not see them; "
        "fix the records, or pass --accept-skipped"
    )
    return True


def print_explanation(spec: Any, incidents: Any, result: Any) -> None:
    """``--explain``: why each outage of the day came out as it did."""
    from budget.workbench import explain_drill

    for minutes, explanation in explain_drill(spec, incidents, result):
        for line in explanation.lines():
            print(f"{minutes}m {line}")


def read_history_text(past: Any, text: str, spec_name: str) -> Any:
    """The history as it stands after this run's record (the next day of a drill compares with it)."""
    from budget.drill import History

    lines = tuple(ln for ln in text.splitlines() if ln.strip())
    return History(past.path, lines, json.loads(lines[-1]))


def print_drill(result: Any, source: str, day: str) -> bool:
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
    note = result.baseline_note()
    if note:
        print(f"note: {note}")
    if result.review:
        if result.review["required"]:
            print("review the proportions: " + "; ".join(result.review["reasons"]))
        else:
            print(f"history: run {result.review['run']}, no review rule triggered")
    return bool(below or result.review.get("required"))


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 pass; 1 a check failed, or a metrics file that is not a valid input (missing, malformed, a NaN
    metric: as ``budget inspect`` reads the same file); 2 unusable rules or a gate that checks nothing."""
    from budget.gateway import load_rules
    from budget.gateway import run as run_validation

    def refuse(exc: BudgetError, code: int) -> NoReturn:
        if args.json:
            print(json.dumps({"verdict": "error", "exit_code": code, "error": str(exc)}, indent=2))
        raise (UsageError(str(exc)) if code == EXIT_USAGE else BudgetError(str(exc))) from None

    try:
        rules = load_rules(args.validation)
    except BudgetError as exc:
        refuse(exc, EXIT_USAGE)
    try:  # the metrics are read by the loader inspect uses, and refused alike: invalid input
        data = load_result(args.metrics)
        baseline = load_result(args.baseline) if args.baseline else None
    except BudgetError as exc:
        refuse(exc, EXIT_FAIL)
    try:
        verdict = run_validation(rules, data, args.metrics, baseline, args.baseline)
    except BudgetError as exc:
        refuse(exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in verdict.lines():
            print(line)
    return verdict.exit_code


def cmd_review(args: argparse.Namespace) -> int:
    """Exit 1 when a signal fires, 0 when none does, 2 when no signal has the data to be evaluated."""
    from budget.drill import load_history, review

    result = review(load_history(args.history), args.history, args.spec)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in result.lines():
            print(line)
    if not result.evaluated:
        raise UsageError(f"{args.history}: no signal could be evaluated: the history is too short or too old")
    return EXIT_FAIL if result.fired else EXIT_OK
