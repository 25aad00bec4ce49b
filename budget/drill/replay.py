"""The daily budget drill: yesterday's alert stream replayed with the cheap tier switched off.

The whole day is replayed once with no outage (the baseline) and once per
outage length (15, 30, 45 minutes by default) starting at ``start``. Each run
reports the four figures the chapter compares (MTTR, escalation share, manual
queue volume, minimum token_health), the red button, and a verdict against the
guard. With a history file, the chapter's review rules apply:

- token_health_min below the guard on two consecutive drill runs, or
- the flow (alerts a day) changed by more than 25 % since the previous run

ask for a review of the proportions. The CLI exits 1 when an outage falls below
the guard or a review is asked for, 0 otherwise.

Each run also keeps the evidence the revisit signals read (``budget.drill.review``):
tokens spent, tasks moved to manual by the timeout, the P0/P1 tasks that arrived
during the outage and those of them that got no failover, the P2/P3 tasks the
most expensive tier served, and when the manual channel first opened by timeout
with the open queue at that minute. :func:`history_entry` turns a drill result
into the history record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from budget.drill.alerts import ImportReport, flow_per_hour
from budget.drill.signal import EVIDENCE_IDS
from budget.errors import BudgetError, UsageError
from budget.files import MAX_DRILL_REPLAYS, check_replays, paused
from budget.keeper import health_text, manual_key
from budget.keeper.snapshot import Run, simulate_shared
from budget.model import BudgetSpec, Incident, Scenario, parse_clock

DEFAULT_OUTAGES = (15, 30, 45)
FLOW_CHANGE_LIMIT = 0.25
CRITICAL = ("P0", "P1")
_TARGET = re.compile(r"-> (\S+) \(")
# the drill's figures (also what the gateway reads per outage)
DRILL_METRICS = (
    "mttr_p95",
    "escalation_share",
    "escalation_ratio",
    "manual_queue",
    "token_health_min",
    "failover_to_frontier",
    "degraded_queue",
    "silent_p0",
    "unresolved_manual_ratio",
    "postmortem_gap",
    "token_health_trend_5m",
    "queue_pressure",
    "mid_tier_saturation",
    "degraded_mode_duration",
    "red_button_review",
    "manual_channel_open",
    "frontier_reserved_for_p0_p1",
)


@dataclass
class DrillResult:
    spec_name: str
    down_tier: str
    start: str
    fail_under: float
    flow: int
    report: dict[str, Any]
    runs: list[dict[str, Any]]
    timelines: dict[str, list[dict[str, Any]]]
    flow_per_hour: list[int]
    review: dict[str, Any] = field(default_factory=dict)
    daily_budget_tokens: int = 0
    queue_limit: int = 0

    @property
    def below_guard(self) -> list[int]:
        return [r["outage_min"] for r in self.runs if r["outage_min"] and r["token_health_min"] < self.fail_under]

    @property
    def baseline_below(self) -> float | None:
        """The no-outage run's token_health_min when it is itself below the guard (else None)."""
        base = [r["token_health_min"] for r in self.runs if not r["outage_min"]]
        return base[0] if base and base[0] < self.fail_under else None

    def baseline_note(self) -> str | None:
        """Said when the day breaches the guard with no outage at all: then an outage is not the cause."""
        floor = self.baseline_below
        if floor is None:
            return None
        return (
            f"the no-outage run is itself below the {self.fail_under:.2f} guard (token_health_min "
            f"{health_text(floor)}): the day's load breaches it without any outage, so an outage is not the cause"
        )

    @property
    def worst(self) -> float:
        outages = [r["token_health_min"] for r in self.runs if r["outage_min"]]
        return min(outages) if outages else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec_name,
            "alerts": self.report,
            "flow": self.flow,
            "down_tier": self.down_tier,
            "start": self.start,
            "fail_under": self.fail_under,
            "daily_budget_tokens": self.daily_budget_tokens,
            "queue_limit": self.queue_limit,
            "runs": self.runs,
            "outages": {str(r["outage_min"]): r for r in self.runs},
            "token_health_min": self.worst,
            "below_guard": self.below_guard,
            "review": self.review,
            "flow_per_hour": self.flow_per_hour,
            "timelines": self.timelines,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def table(self) -> str:
        head = (
            f"{'outage':>7} {'mttr_p95':>9} {'escalation':>10} {'manual':>7} {'health_min':>10} "
            f"{'silent_p0':>9} {'red button':>10}  verdict"
        )
        lines = [head]
        for r in self.runs:
            label = "none" if not r["outage_min"] else f"{r['outage_min']}m"
            red = "raised" if r["red_button"] else "-"
            lines.append(
                f"{label:>7} {r['mttr_p95']:>8}s {r['escalation_share']:>10.2f} {r['manual_queue']:>7} "
                f"{health_text(r['token_health_min']):>10} {r['silent_p0']:>9.3f} {red:>10}  {r['verdict']}"
            )
        return "\n".join(lines)


def run_drill(
    spec: BudgetSpec,
    incidents: Sequence[Incident],
    outages: Sequence[int] = DEFAULT_OUTAGES,
    start: str = "11:00",
    down_tier: str | None = None,
    fail_under: float | None = None,
    report: ImportReport | None = None,
    spec_name: str = "spec",
    progress: Callable[[float], None] | None = None,
    manual_timeout_sec: float = 120,
    baseline: bool = True,
    keep_timelines: bool = True,
    evidence: bool = False,
) -> DrillResult:
    """Replay the day once without an outage and once per outage length.

    ``evidence`` keeps what the revisit signals read in each run: it needs each
    outage run's decisions log and timeline, which doubles the time of a long
    day's replay, so only a drill that writes a history (or a page that reviews
    one) asks for it.
    """
    tier = check_drill(spec, incidents, outages, start, down_tier)
    check_replays("drill", len(incidents), len(outages) + baseline, MAX_DRILL_REPLAYS, "give fewer outages")
    guard = spec.policy.alert_threshold if fail_under is None else fail_under
    incs = sorted_incidents(incidents)
    plan = ([0] if baseline else []) + [int(o) for o in outages]
    runs = drill_runs(spec, incs, plan, start, tier, manual_timeout_sec, spec_name, keep_timelines, evidence)
    with paused():
        results = [r.to_dict() for r in simulate_shared(runs, progress)]
        return drill_result(spec, incs, plan, results, start, tier, guard, report, spec_name, keep_timelines, evidence)


def check_drill(
    spec: BudgetSpec, incidents: Sequence[Incident], outages: Sequence[int], start: str, down_tier: str | None = None
) -> str:
    """Refuse a drill that cannot run; the tier to switch off.

    A bad start, tier or outage length is the caller's value (``--start``, ``--down-tier``, ``--outages``): a
    :class:`UsageError`; a day with no incidents is the alert stream's (a :class:`BudgetError`).
    """
    try:
        parse_clock(start, "--start")
    except BudgetError as exc:
        raise UsageError(str(exc)) from None
    tier = down_tier or spec.cheapest
    if tier not in spec.tiers:
        raise UsageError(f"--down-tier: unknown tier {tier!r} (the plan's tiers: {', '.join(spec.tiers)})")
    for o in outages:
        if not 1 <= int(o) <= 1440:
            raise UsageError(f"--outages: {o} must be between 1 and 1440 minutes")
    if not incidents:
        raise BudgetError("the alert stream has no incidents")
    return tier


def sorted_incidents(incidents: Sequence[Incident]) -> tuple[Incident, ...]:
    """The day's incidents in the order the keeper admits them (arrival, then id)."""
    return tuple(sorted(incidents, key=_ARRIVAL_ID))


_ARRIVAL_ID = attrgetter("arrival_sec", "id")


def drill_runs(
    spec: BudgetSpec,
    incs: tuple[Incident, ...],
    plan: Sequence[int],
    start: str,
    tier: str,
    manual_timeout_sec: float,
    spec_name: str,
    keep_timelines: bool,
    evidence: bool,
) -> list[Run]:
    """The day's runs: one per outage length of ``plan`` (0: no outage), to simulate with ``simulate_shared``."""
    runs = []
    for minutes in plan:
        scenario = Scenario(
            down_tier=tier if minutes else None,
            start=start,
            duration_min=minutes or None,
            queue=len(incs),
            manual_timeout_sec=manual_timeout_sec,
            incidents=incs,
            horizon="day",
            source=spec_name,
        )
        detail = evidence and bool(minutes)  # the no-outage run's evidence needs no decisions log
        runs.append(Run(spec, scenario, include_decisions=detail, include_timeline=keep_timelines or detail))
    return runs


def drill_result(
    spec: BudgetSpec,
    incs: tuple[Incident, ...],
    plan: Sequence[int],
    results: Sequence[Mapping[str, Any]],
    start: str,
    tier: str,
    guard: float,
    report: ImportReport | None,
    spec_name: str,
    keep_timelines: bool = True,
    evidence: bool = False,
) -> DrillResult:
    """The drill's table from each run's result (the runs of :func:`drill_runs`, in order)."""
    runs: list[dict[str, Any]] = []
    timelines: dict[str, list[dict[str, Any]]] = {}
    for minutes, r in zip(plan, results, strict=True):
        row = {"outage_min": minutes, **{k: r[k] for k in DRILL_METRICS}}
        row["red_button"] = r["red_button"]["activated"]
        row["sla_breaches"] = r["sla_breaches"]
        row["verdict"] = "holds the guard" if r["token_health_min"] >= guard else f"below the {guard:.2f} guard"
        if evidence:
            row.update(run_evidence(r, incs, spec.most_expensive, parse_clock(start) * 60, minutes))
        runs.append(row)
        label = "no outage" if not minutes else f"{minutes} min outage"
        if keep_timelines:
            timelines[label] = [{"time": x["time"], "token_health": x["token_health"]} for x in r["timeline"]]
    return DrillResult(
        spec_name=spec_name,
        down_tier=tier,
        start=start,
        fail_under=guard,
        flow=len(incs),
        report=report.to_dict() if report else {"incidents": len(incs)},
        runs=runs,
        timelines=timelines,
        flow_per_hour=flow_per_hour(list(incs)),
        daily_budget_tokens=spec.daily_budget_tokens,
        queue_limit=spec.policy.queue_limit,
    )


def _ids(ids: list[str]) -> list[str]:
    return ids[:EVIDENCE_IDS]


def _seconds(clock: str) -> int:
    """Seconds of a decisions-log time: ``HH:MM``, ``HH:MM:SS``, either with ``+Nd``."""
    text, _, days = clock.partition("+")
    parts = [int(x) for x in text.split(":")] + [0]
    return int(days.rstrip("d") or 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]


def run_evidence(r: Mapping[str, Any], incidents: Sequence[Incident], top: str, start_sec: int, minutes: int) -> dict:
    """What the revisit signals read from one run (a simulate result with decisions and timeline)."""
    out: dict[str, Any] = {
        "spent_tokens": sum(int(t["spent"]) for t in r["tiers"].values()),
        "manual_after_timeout": r[manual_key(r["manual_timeout_sec"])],
        "failover_total": r.get("failover_total", r["failover_to_frontier"]),  # to any tier (a middle one too)
    }
    if not minutes:
        return out
    end = start_sec + minutes * 60
    decisions = {d["id"]: d for d in r["decisions"]}
    critical = [i.id for i in incidents if i.severity in CRITICAL and start_sec <= i.arrival_sec < end]
    waited = [i for i in critical if decisions[i]["route"] != "failover"]
    wide = []  # P2/P3 tasks the most expensive tier took by failover (failover happens only while a tier is down)
    opened: dict[str, Any] | None = None
    rows = {row["time"]: row for row in r["timeline"]}
    for d in r["decisions"]:
        events = d["events"]
        for n, e in enumerate(events):
            if e["action"] == "failover" and d["severity"] not in CRITICAL:
                m = _TARGET.search(e["reason"])
                if m and m.group(1) == top:
                    wide.append(d["id"])
            before = events[n - 1] if n else None
            if (  # moved to the manual channel by the timeout, after waiting from within the outage
                e["action"] == "manual"
                and before is not None
                and before["action"] == "degraded"
                and start_sec <= _seconds(before["time"]) < end
            ):
                if opened is None or _seconds(e["time"]) < _seconds(opened["time"]):
                    opened = {"time": e["time"], "tasks": []}
                if e["time"] == opened["time"]:
                    opened["tasks"].append(d["id"])
    if opened is not None:
        row = rows.get(opened["time"], {})
        opened["queue"] = int(row.get("pending", 0)) + int(row.get("degraded", 0)) + int(row.get("manual", 0))
        opened["tasks"] = _ids(sorted(opened["tasks"]))
    out.update(
        critical=len(critical),
        critical_waited=len(waited),
        critical_waited_ids=_ids(waited),
        frontier_noncritical=len(wide),
        frontier_noncritical_ids=_ids(sorted(wide)),
        manual_opened=opened,
    )
    return out


CSV_COLUMNS = (
    "outage_min",
    "mttr_p95",
    "escalation_share",
    "manual_queue",
    "token_health_min",
    "silent_p0",
    "mid_tier_saturation",
    "red_button",
    "verdict",
)


def drill_csv(result: DrillResult) -> str:
    """The drill table as CSV (one row per run, the baseline first)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in result.runs:
        w.writerow([r[c] for c in CSV_COLUMNS])
    return out.getvalue()
