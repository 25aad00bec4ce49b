"""``python -m budget.traffic.live``: an operator's word to the live keeper, and the demo.

- ``down TIER`` / ``up TIER``: mark a tier down or back up (the keeper's return policy takes it from there);
- ``result``: the live day as the simulator's result JSON (``budget inspect --result <state>`` reads it too);
- ``spendlog --out FILE``: the live day's served requests as LiteLLM spend-log rows (``budget fit`` reads them);
- ``alerts --out FILE``: the live day's incidents as JSON-lines alerts (``budget drill`` replays them);
- ``demo``: a real LiteLLM proxy with the keeper on a shipped plan against the fake upstream: pull the
  plug on the cheapest tier and watch the decisions (``demo.py``).

The keeper's environment: ``BUDGET_KEEPER_SPEC``, ``BUDGET_KEEPER_STATE`` and optionally ``BUDGET_KEEPER_CLOCK``.
"""

from __future__ import annotations

import argparse
import json
import sys

from budget.errors import BudgetError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m budget.traffic.live", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("down", "up"):
        p = sub.add_parser(name, help=f"mark a tier {name}")
        p.add_argument("tier")
        p.add_argument("--reason", default="operator")
    sub.add_parser("result", help="print the live day as the simulator's result JSON")
    sl = sub.add_parser("spendlog", help="write the live day as LiteLLM spend-log JSON (budget fit --spend-logs)")
    sl.add_argument("--out", required=True)
    al = sub.add_parser("alerts", help="write the live day's incidents as JSON-lines alerts (budget drill --alerts)")
    al.add_argument("--out", required=True)
    d = sub.add_parser("demo", help="the keeper in a real proxy against the fake upstream, a tier pulled")
    d.add_argument("--budget-spec", default="specs/budget_network.yaml")
    d.add_argument("--minutes", type=int, default=8, help="keeper minutes to play (1-60)")
    d.add_argument("--state", default="out/live_keeper.sqlite", help="where to keep the live day's state")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "demo":
            from budget.traffic.live.demo import run_demo

            return run_demo(args.budget_spec, args.minutes, args.state)
        from budget.traffic.live.engine import LiveKeeper

        keeper = LiveKeeper.from_env()
        if args.cmd == "result":
            print(json.dumps(keeper.result(), indent=2, ensure_ascii=False))
            return 0
        if args.cmd in ("spendlog", "alerts"):
            from budget.files import Outputs

            outs = Outputs({"--out": args.out})
            if args.cmd == "spendlog":
                outs.set("--out", json.dumps(keeper.spend_log(), indent=2) + "\n")
                what = "the live day's served requests as LiteLLM spend-log rows (budget fit --spend-logs)"
            else:
                outs.set("--out", keeper.alerts())
                what = "the live day's incidents as JSON-lines alerts (budget drill --alerts)"
            outs.commit()
            print(f"wrote {args.out}: {what}")
            return 0
        changed = keeper.set_tier(args.tier, args.cmd == "down", args.reason)
        print(f"{args.tier} {'marked ' + args.cmd if changed else 'was already ' + args.cmd}")
        return 0
    except BudgetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
