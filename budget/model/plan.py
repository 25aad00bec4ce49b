"""Compiling a spec into the plan JSON, and the proportion check.

For the textbook spec the plan is byte for byte the textbook's
``outputs/budget_plan.example.json``: daily budget, per-tier totals, phases.
A spec's ``tiers``, ``policy`` and ``split`` are carried only when the spec
declares them, so that simulate reads the same constants back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budget.errors import BudgetError
from budget.files import load_document
from budget.model.phases import RESERVE, SLA_KEY
from budget.model.spec import (
    BudgetSpec,
    Split,
    load_spec,
    spec_from_document,
    tier_totals,
)


def plan_dict(spec: BudgetSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"daily_budget_tokens": spec.daily_budget_tokens, "totals": tier_totals(spec)}
    phases: dict[str, Any] = {}
    for name, phase in spec.phases.items():
        row: dict[str, Any] = {t: phase.quotas.get(t, 0) for t in spec.tiers}
        row[SLA_KEY] = phase.sla_p95
        phases[name] = row
    if spec.reserve:
        row = {t: spec.reserve.get(t, 0) for t in spec.tiers}
        row[SLA_KEY] = None
        phases[RESERVE] = row
    out["phases"] = phases
    if spec.policy_declared:
        out["policy"] = spec.policy.model_dump(mode="json")
    if spec.split is not None:
        out["split"] = {**spec.split.target, "tolerance_pct": spec.split.tolerance_pct}
    return out


def plan_json(spec: BudgetSpec) -> str:
    """The plan file's exact text (two-space indent, trailing newline)."""
    return json.dumps(plan_dict(spec), indent=2, ensure_ascii=False) + "\n"


def load_plan(path: str | Path) -> BudgetSpec:
    """A compiled plan (``.json``) or a spec (``.yaml``): both give the same validated spec."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        return load_spec(p)
    return spec_from_document(load_document(p))


@dataclass(frozen=True)
class ShareCheck:
    tier: str
    tokens: int
    share_pct: float
    target_pct: float | None
    tolerance_pct: float | None

    @property
    def ok(self) -> bool | None:
        if self.target_pct is None or self.tolerance_pct is None:
            return None
        return abs(self.share_pct - self.target_pct) <= self.tolerance_pct + 1e-9


def proportion_check(spec: BudgetSpec, split: Split | None = None) -> list[ShareCheck]:
    """Each tier's (or tier group's) share of the day against the target split.

    The target is the one given, else the spec's own; without either, every
    tier's share is reported with no verdict.
    """
    target = split or spec.split
    if target is None:
        return [
            ShareCheck(t, spec.tier_total(t), 100.0 * spec.tier_total(t) / spec.daily_budget_tokens, None, None)
            for t in spec.tiers
        ]
    checks = []
    for key, pct in target.target.items():
        members = key.split("+")
        unknown = [m for m in members if m not in spec.tiers]
        if unknown:
            raise BudgetError(f"split names unknown tier {unknown[0]!r} (tiers: {', '.join(spec.tiers)})")
        tokens = sum(spec.tier_total(m) for m in members)
        checks.append(ShareCheck(key, tokens, 100.0 * tokens / spec.daily_budget_tokens, pct, target.tolerance_pct))
    return checks


def summary_line(spec: BudgetSpec) -> str:
    parts = [f"daily_budget_tokens {spec.daily_budget_tokens:,}"]
    for tier in spec.tiers:
        parts.append(f"{tier} {spec.tier_total(tier):,}")
    parts.append(f"{len(spec.phases)} phases")
    if spec.reserve:
        parts.append(f"control_reserve {sum(spec.reserve.values()):,}")
    return "; ".join(parts)


def proportion_line(checks: list[ShareCheck]) -> str:
    shares = "/".join(f"{round(c.share_pct, 2):g}" for c in checks)
    names = "/".join(c.tier for c in checks)
    if checks[0].target_pct is None:
        return f"split {shares} ({names}); no target declared (use --expect-split)"
    target = "/".join(f"{c.target_pct:g}" for c in checks)
    ok = all(c.ok for c in checks)
    verdict = "ok" if ok else "FAIL"
    return f"split {shares} ({names}) vs target {target} ±{checks[0].tolerance_pct:g} pt: {verdict}"
