"""The command line's grammar: every command, its flags and their strict values, with no command's code.

The parser is input: it turns ``argv`` into checked values (``budget.files.cliargs``) and names the
command in ``args.command``; ``budget.cli`` runs it. The Home page's exercise runner parses the same
commands with it (one source for every flag's default).
"""

from __future__ import annotations

import argparse
from typing import Any

from budget import __version__
from budget.files.choices import ALERT_FORMATS, DEFAULT_MAX_SILENT_P0, GATEWAYS, ROUTING_POLICIES, SPEND_LOG_FORMATS
from budget.files.cliargs import integer, number, say_error
from budget.files.limits import MAX_INCIDENTS_PER_DAY, MAX_QUEUE, MAX_TOKENS_PER_INCIDENT, MAX_WORKERS

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
COMMANDS = (
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


def _plan_commands(sub: Any) -> None:
    """compile, assert, simulate, inspect, note: a spec, its plan, one run, its result."""
    c = sub.add_parser("compile", help="compile a budget spec into a plan JSON")
    c.add_argument("--budget-spec", required=True, metavar="SPEC", help="budget_network.yaml")
    c.add_argument("--out", required=True, metavar="PLAN", help="where to write the plan JSON")
    c.add_argument("--expect-split", metavar="90/10", help="target share per tier, cheapest first")
    c.add_argument("--tolerance", type=number(0, 100), default=1.0, metavar="PT", help="allowed deviation, points (1)")

    a = sub.add_parser("assert", help="a spec's compile-time checks (sum, split, tiers, phases), no output")
    a.add_argument("--budget-spec", required=True, metavar="SPEC", help="budget_network.yaml")
    a.add_argument("--expect-split", metavar="90/10", help="target share per tier, cheapest first")
    a.add_argument("--tolerance", type=number(0, 100), default=1.0, metavar="PT", help="allowed deviation, points (1)")

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
    s.add_argument("--explain", action="store_true", help="also say why: failover limits, token_health, the floor")

    i = sub.add_parser("inspect", help="check a result with a query such as 'a==5 && b>=0.5'")
    i.add_argument("--result", required=True, metavar="RESULT")
    i.add_argument("--query", required=True, metavar="QUERY")

    n = sub.add_parser("note", help="write a case into capstone/budget-note.md from a result")
    n.add_argument("--result", required=True, metavar="RESULT")
    n.add_argument("--case", required=True, metavar="NAME", help="e.g. high_memory_usage")
    n.add_argument("--risk", help='default: "<tier> unavailable <N>m"')
    n.add_argument("--effect", help="default: from the result")
    n.add_argument("--alert-threshold", type=number(0, 1), help="the guard (the result's, 0.60)")
    n.add_argument("--decision", help='default: "do not transfer entire queue to expensive tier"')
    n.add_argument("--out", default="capstone/budget-note.md", metavar="NOTE")
    n.add_argument("--replace", action="store_true", help="replace the case if the note has it")


def _drill_commands(sub: Any) -> None:
    """drill, validate, review: a day of alerts replayed, the gateway's checks, the history."""
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
    d.add_argument(
        "--accept-skipped",
        action="store_true",
        help="a drill that skipped alert records can still pass (else it exits 1 and says which)",
    )
    d.add_argument("--out", required=True, metavar="JSON", help="where to write the drill result")
    d.add_argument("--csv", metavar="CSV", help="also write the table as CSV")
    d.add_argument("--explain", action="store_true", help="also say why, for each outage (replays it once more)")

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

    rv = sub.add_parser("review", help="the signals to revisit the thresholds, from a drill history")
    rv.add_argument("--history", required=True, metavar="JSONL", help="the drill's --history file")
    rv.add_argument("--spec", metavar="SPEC", help="whose records to read (the last record's spec)")
    rv.add_argument("--json", action="store_true", help="print the signals as JSON")


def _sweep_commands(sub: Any) -> None:
    """calibrate, propose: a sweep of variants, a starting plan."""
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

    pr = sub.add_parser("propose", help="a starting plan from the chapter's Low / Default / High table")
    pr.add_argument("--incidents-per-day", type=integer(1, MAX_INCIDENTS_PER_DAY), required=True)
    pr.add_argument(
        "--incident-tokens", type=integer(1, MAX_TOKENS_PER_INCIDENT), default=50_000, help="cost of an incident"
    )
    pr.add_argument("--disputed-share", type=number(0, 1), default=0.10, help="share of disputed reviews (0.10)")
    pr.add_argument("--outages-per-month", type=number(0, 1000), default=3, help="local-coder outages a month (3)")
    pr.add_argument("--out", required=True, metavar="YAML")


def _traffic_commands(sub: Any) -> None:
    """fit, export: a plan from real traffic, a plan out to a gateway."""
    f = sub.add_parser("fit", help="fit a spec's workload (policy fragment) from a LiteLLM spend log")
    f.add_argument("--spend-logs", required=True, metavar="FILE", help="/spend/logs JSON or LiteLLM_SpendLogs CSV")
    f.add_argument("--format", choices=SPEND_LOG_FORMATS, help="json or csv (detected when left out)")
    f.add_argument("--tier-map", action="append", metavar="GROUP=TIER", help="model_group to tier (repeatable)")
    f.add_argument("--tiers", metavar="A,B,C", help="tier order, cheapest first (else the spec's, else by price)")
    f.add_argument("--budget-spec", metavar="SPEC", help="the spec the fragment is for: its tiers and phases")
    f.add_argument("--out", required=True, metavar="YAML", help="the policy fragment to write")

    e = sub.add_parser("export", help="write a plan as a LiteLLM proxy config or a Portkey config")
    e.add_argument("--budget-spec", required=True, metavar="SPEC", help="a spec YAML or a compiled plan JSON")
    e.add_argument("--to", required=True, choices=GATEWAYS, help="the gateway")
    e.add_argument("--out", required=True, metavar="FILE", help="config.yaml (litellm) or config JSON (portkey)")
    e.add_argument("--limits-out", metavar="JSON", help="also write each tier's tpm, tokens and USD a day")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="budget", description="Tiered model routing under a daily token budget.")
    parser.add_argument("--version", action="version", version=f"budget {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_plan_commands, _drill_commands, _sweep_commands, _traffic_commands):
        add(sub)
    return parser
