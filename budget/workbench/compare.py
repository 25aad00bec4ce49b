"""Side-by-side runs: the chapter's 15 vs 45 minutes vs the 5M budget, and the user's variants.

Each variant may carry the user's prediction of token_health_min; the table
shows it beside the actual value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from budget.gateway import evaluate
from budget.keeper import health_text, simulate
from budget.model import DEFAULT_ROUTING, BudgetSpec, scenario_from_dict


@dataclass(frozen=True)
class Variant:
    label: str
    spec: str = "budget_network.yaml"
    duration_min: int = 45
    queue: int = 20
    manual_timeout_sec: float = 120
    policy: str = DEFAULT_ROUTING
    start: str = "11:00"
    down_tier: str = "local-coder"
    predicted_floor: float | None = None
    check: str | None = None  # an inspect query the run must satisfy
    recovery: str = "instant"

    def scenario_fields(self) -> dict[str, Any]:
        return {
            "down_tier": self.down_tier,
            "start": self.start,
            "duration_min": self.duration_min,
            "queue": self.queue,
            "manual_timeout_sec": self.manual_timeout_sec,
            "policy": self.policy,
            "recovery": self.recovery,
        }


# Compare's tabs, one a section: the chapter's runs, the learner's variants, the policies, the return
COMPARE_SECTIONS = ("The chapter", "Your variants", "Three policies", "Bringing local-coder back")

CHAPTER_VARIANTS: tuple[Variant, ...] = (
    Variant("10M, 15 min", duration_min=15, check="token_health_min>=0.7"),
    Variant(
        "10M, 45 min",
        duration_min=45,
        check="failover_to_frontier==5 && degraded_queue==15 && manual_queue_after_120s==15 && token_health_min>=0.5",
    ),
    Variant(
        "5M, 45 min",
        spec="budget_network_5m.yaml",
        duration_min=45,
        check="failover_to_frontier==2 && degraded_queue==18 && token_health_min>=0.5",
    ),
)

POLICY_VARIANTS: tuple[Variant, ...] = (
    Variant("ranked", policy="ranked"),
    Variant("all_to_frontier", policy="all_to_frontier"),
    Variant("hold_all", policy="hold_all"),
)


RETURN_VARIANTS: tuple[Variant, ...] = (
    Variant("immediate full return", duration_min=30, queue=40, manual_timeout_sec=3600, recovery="immediate"),
    Variant("staged return", duration_min=30, queue=40, manual_timeout_sec=3600, recovery="staged"),
)


def run_variants(
    variants: list[Variant] | tuple[Variant, ...],
    specs: dict[str, BudgetSpec],
    progress: Callable[[float], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(table rows, {label: result}) for the variants, in order."""
    rows: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    for n, v in enumerate(variants, 1):
        spec = specs[v.spec]
        scenario = scenario_from_dict(v.scenario_fields(), spec, name=v.label)
        r = simulate(spec, scenario, include_decisions=False).to_dict()
        results[v.label] = r
        guard = r["guard"]
        critical_breaches = r["sla_breaches"]["P0"] + r["sla_breaches"]["P1"]
        row = {
            "variant": v.label,
            "plan": v.spec,
            "policy": v.policy,
            "outage_min": v.duration_min,
            "queue": v.queue,
            "timeout_s": v.manual_timeout_sec,
            "failover": r["failover_to_frontier"],
            "degraded": r["degraded_queue"],
            "manual": r["manual_queue"],
            "token_health_min": r["token_health_min"],
            "predicted": v.predicted_floor,
            "prediction_error": None
            if v.predicted_floor is None
            else round(r["token_health_min"] - v.predicted_floor, 4),
            "mttr_p95_s": r["mttr_p95"],
            "P0/P1 SLA breaches": critical_breaches,
            "guard": f"breached ({guard['alert_threshold']:.2f})" if guard["breached"] else "holds",
            "relapses": len(r["recovery"]["relapses"]),
            "second_dip": r["recovery"]["second_dip"],
            "floor >= 0.5": r["token_health_min"] >= 0.5,
        }
        if v.check:
            outcome = evaluate(v.check, r)
            row["check"] = v.check
            row["check holds"] = outcome.ok
        rows.append(row)
        if progress is not None:
            progress(n / len(variants))
    return rows, results


def policy_sentence(rows: list[dict[str, Any]]) -> str:
    """What each policy's run shows, in words read off its row (never a fixed claim)."""
    parts = []
    for r in rows:
        guard = "holds the guard" if r["guard"] == "holds" else f"guard {r['guard']}"
        parts.append(
            f"{r['variant']}: token_health_min {health_text(r['token_health_min'])} ({guard}), "
            f"{r['failover']} tasks failed over, {r['P0/P1 SLA breaches']} P0/P1 SLA breaches"
        )
    return "; ".join(parts) + "."
