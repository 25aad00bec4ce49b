"""``budget calibrate`` and ``propose``: a sweep of a plan's variants against outage drills, a starting plan."""

from __future__ import annotations

import argparse
import os
import sys

from budget.cli.flags import flag_value
from budget.files import (
    EXIT_FAIL,
    EXIT_OK,
    MAX_SWEEP_DAY_RUNS,
    MAX_SWEEP_REPLAYS,
    check_day_runs,
    check_replays,
    outages,
    targets,
)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from budget.calibration import calibrate, price_of, spec_yaml, sweep_grid
    from budget.drill import load_days
    from budget.files import Outputs
    from budget.gateway import load_checks
    from budget.keeper import health_text
    from budget.model import load_plan, parse_clock

    outs = Outputs(
        {"--out": args.out, "--csv": args.csv},
        inputs={"--budget-spec": args.budget_spec, "--alerts": args.alerts, "--validation": args.validation},
    )
    variants = sweep_grid(args)
    lengths = outages(args.outages)
    goals = targets(args.targets)
    flag_value("--start", parse_clock, args.start, "--start")
    base = load_plan(args.budget_spec)
    outs.also_inputs({"include:": base.included})
    history = load_days(args.alerts, args.format)
    replays = len(variants) * len(lengths)
    check_day_runs("calibrate", len(history.days), replays, MAX_SWEEP_DAY_RUNS, "give fewer days or a smaller sweep")
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
    note = result.gateway_note()  # why variants below 0.50 pass the gateway, and what that means for the pick
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
        if note:
            print(f"note: {note}")
        print(f"closest: variant {closest.index} ({closest.why})")
        print("no variant meets the targets: widen the sweep (larger reserves or frontier shares); nothing written")
        return EXIT_FAIL
    v = best.variant
    money = base.policy.currency
    guard = result.guard_note()  # the guard is an axis of the sweep: say so beside the recommendation
    floors = ", ".join(f"{m}m {health_text(f)}" for m, f in sorted(best.floors.items()))  # rounded down
    header = (
        f"Recommended by budget calibrate from {args.budget_spec} over {', '.join(args.alerts)}:\n"
        f"frontier share {v.frontier_share:.1%}, control_reserve {v.reserve:,}, manual timeout "
        f"{v.manual_timeout_sec:g}s, guard {v.alert_threshold:.2f}\n"
        f"token_health_min {floors}; {best.daily_budget_tokens:,} tokens a day, {best.cost:.2f} {money} a day\n"
        f"{guard}"
    )
    outs.set("--csv", result.csv())
    outs.set("--out", spec_yaml(result.recommended_spec, header))
    outs.commit()
    for line in history.summary_lines():
        print(line)
    print(f"{swept}; table in {args.csv}")
    if note:
        print(f"note: {note}")
    print(
        f"recommended: frontier {v.frontier_share:.1%}, control_reserve {v.reserve:,}, manual timeout "
        f"{v.manual_timeout_sec:g}s, guard {v.alert_threshold:.2f}"
    )
    print(f"  {guard}")
    print(f"  token_health_min {floors}")
    print(
        f"  {best.daily_budget_tokens:,} tokens a day, {best.cost:.2f} {money} a day at the policy's prices "
        f"(base plan: {price_of(base):.2f} {money} a day)"
    )
    print(f"wrote {args.out}")
    return EXIT_OK


def cmd_propose(args: argparse.Namespace) -> int:
    from budget.calibration import propose
    from budget.files import Outputs

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
