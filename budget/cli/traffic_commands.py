"""``budget fit`` and ``export``: a plan from real traffic, a plan out to a gateway."""

from __future__ import annotations

import argparse
import os

from budget.errors import UsageError
from budget.files import EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    from budget.files import Outputs
    from budget.model import load_plan
    from budget.traffic import fit_spend_log, parse_tier_map, read_spend_log

    outs = Outputs({"--out": args.out}, inputs={"--spend-logs": args.spend_logs, "--budget-spec": args.budget_spec})
    tier_map = parse_tier_map(args.tier_map)
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()] if args.tiers is not None else None
    if tiers == []:
        raise UsageError(f"--tiers {args.tiers!r}: give the tiers' names, cheapest first, like a,b,c")
    spec = load_plan(args.budget_spec) if args.budget_spec else None
    outs.also_inputs({"include:": spec.included if spec else None})
    fit = fit_spend_log(read_spend_log(args.spend_logs, args.format), tier_map, tiers, spec)
    outs.set("--out", fit.fragment_yaml())
    outs.commit()
    for line in fit.summary_lines():
        print(line)
    where = os.path.relpath(args.out, os.path.dirname(args.budget_spec) or ".") if args.budget_spec else args.out
    print(f"wrote {args.out}; a spec uses it with `include: {where}` (a path relative to the spec)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from budget.files import Outputs
    from budget.model import load_plan
    from budget.traffic import export_text, limits_json
    from budget.traffic import summary_lines as export_summary

    outs = Outputs({"--out": args.out, "--limits-out": args.limits_out}, inputs={"--budget-spec": args.budget_spec})
    spec = load_plan(args.budget_spec)
    outs.also_inputs({"include:": spec.included})
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
