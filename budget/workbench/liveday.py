"""The live day beside the simulated one: what the keeper in a LiteLLM proxy decided, in the simulator's terms.

A keeper state (a SQLite file or a ``redis://`` URL; ``python -m budget.traffic.live demo`` keeps one in
``out/live_keeper.sqlite``) holds the plan the keeper ran, every request's decision and the usage the
upstreams reported. :func:`live_view` reads it into the figures the chapter's composite query asks
about, the same figures of a simulated outage on the same plan, and the requests the proxy saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from budget.keeper import health_text, manual_key, simulate
from budget.model import load_scenario
from budget.traffic import live_day
from budget.workbench.explain import Explanation, explain_result

DEFAULT_STATE = Path("out") / "live_keeper.sqlite"
FIGURES = (
    ("failover_to_frontier", "failed over to the top tier"),
    ("degraded_queue", "degraded queue"),
    ("manual", "manual channel after the timeout"),
    ("token_health_min", "token_health_min"),
    ("silent_p0", "silent_p0"),
    ("mttr_p95", "mttr_p95 (s)"),
)


@dataclass
class LiveView:
    plan: str
    scenario: str
    outages: tuple[str, str]  # (the live day's, the simulated one's): each column is its own outage
    rows: list[dict[str, Any]]
    decisions: dict[str, int]
    served_by_tier: dict[str, int]
    failed_by_tier: dict[str, int]
    tokens_by_tier: dict[str, int]
    requests: list[dict[str, Any]] = field(default_factory=list)
    tier_events: list[dict[str, Any]] = field(default_factory=list)  # tiers down and up, probes
    why: Explanation | None = None  # the live day explained as --explain explains a simulated run

    @property
    def probes_by_tier(self) -> dict[str, tuple[int, int]]:
        """Each tier the keeper probed (its own one-token calls to a tier it took down): (probes, answered)."""
        counts: dict[str, tuple[int, int]] = {}
        for event in self.tier_events:
            if event["event"].startswith("probe"):
                n, answered = counts.get(event["tier"], (0, 0))
                counts[event["tier"]] = (n + 1, answered + (event["event"] == "probe answered"))
        return dict(sorted(counts.items()))


def _figure(result: dict[str, Any], key: str) -> str:
    """One figure as the table shows it: text (a column of counts and health figures together is text to
    the table, which otherwise fails to convert it and falls back with a traceback in the log)."""
    if key == "manual":
        value = result.get(manual_key(float(result.get("manual_timeout_sec", 120))))
    elif key == "token_health_min":  # one rounding rule for token_health everywhere: down
        value = health_text(float(result[key]))
    else:
        value = result.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # mttr_p95 3090.0 s reads 3090
    return "" if value is None else str(value)


def _outage(result: dict[str, Any]) -> str:
    """Which tier was down, from when and for how long: the two columns compare outages of their own length."""
    return f"{result.get('down_tier')} down {result.get('duration_min')} min from {result.get('start')}"


def live_view(state: str | Path, scenario: str | Path) -> LiveView:
    """The live day of the keeper state ``state`` beside ``scenario`` simulated on the plan the keeper ran."""
    spec, live = live_day(str(state))
    sim = simulate(spec, load_scenario(scenario, spec), include_decisions=False).to_dict()
    rows = [{"figure": label, "live day": _figure(live, key), "simulated": _figure(sim, key)} for key, label in FIGURES]
    log = live.get("live", {})
    requests = [
        {
            k: ("" if d.get(k) is None else d.get(k))
            for k in ("time", "incident", "severity", "phase", "decision", "tier", "upstream", "reason")
        }
        for d in log.get("requests_log", [])
    ]
    return LiveView(
        plan=f"{' / '.join(spec.tiers)}, {spec.daily_budget_tokens:,} tokens a day (stored in the state)",
        scenario=Path(scenario).name,
        outages=(_outage(live), _outage(sim)),
        rows=rows,
        decisions=dict(log.get("decisions", {})),
        served_by_tier=dict(log.get("served_by_tier", {})),
        failed_by_tier=dict(log.get("failed_by_tier", {})),
        tokens_by_tier=dict(log.get("tokens_by_tier", {})),
        requests=requests,
        tier_events=list(log.get("tier_events", [])),
        why=explain_result(live, spec),
    )
