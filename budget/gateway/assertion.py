"""``budget assert``: a spec's compile-time checks, with no output file.

The checks are the compiler's own (``budget.model.spec``: fields, quotas, the quota
sum against ``daily_budget_tokens``, tier and phase names; ``budget.model.plan``: the
split against ``--expect-split`` or the spec's ``split``) plus the sanity of
each tier and phase: every tier gets tokens, every phase has tokens to work
with and declares its ``sla_p95`` (without one the keeper assumes 60 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from budget.errors import BudgetError
from budget.model import BudgetSpec, load_spec, parse_split, proportion_check, proportion_line, summary_line


@dataclass
class Assertion:
    source: str
    ok: bool
    reasons: list[str] = field(default_factory=list)  # why it fails, one line each
    facts: list[str] = field(default_factory=list)  # what was checked, when the spec compiles

    def lines(self) -> list[str]:
        head = f"assert {self.source}: {'ok' if self.ok else 'FAIL'}"
        return [head, *self.facts, *(f"  - {r}" for r in self.reasons)]


def sanity_problems(spec: BudgetSpec) -> list[str]:
    """Tiers without tokens, phases without tokens or without an sla_p95."""
    problems = [f"tier {t}: gets no tokens in any phase or the reserve" for t in spec.tiers if spec.tier_total(t) <= 0]
    for name, phase in spec.phases.items():
        if sum(phase.quotas.values()) <= 0:
            problems.append(f"phase {name}: has no tokens on any tier")
        if phase.sla_p95 is None:
            problems.append(f"phase {name}: declares no sla_p95 (the keeper would assume 60s)")
    return problems


def assert_spec(path: str | Path, expect_split: str | None = None, tolerance: float = 1.0) -> Assertion:
    source = str(path)
    try:
        spec = load_spec(path)
    except BudgetError as exc:
        return Assertion(source, False, [str(exc)])
    reasons: list[str] = []
    facts = [summary_line(spec)]
    try:
        split = parse_split(expect_split, spec.tiers, tolerance) if expect_split else None
        checks = proportion_check(spec, split)
        facts.append(proportion_line(checks))
        if checks[0].target_pct is not None:
            for c in checks:
                if not c.ok:
                    reasons.append(
                        f"split: {c.tier} has {c.share_pct:.2f}% of the day, target {c.target_pct:g}% "
                        f"±{c.tolerance_pct:g} pt"
                    )
    except BudgetError as exc:
        reasons.append(str(exc))
    problems = sanity_problems(spec)
    if not problems:
        facts.append(f"{len(spec.tiers)} tiers with tokens; {len(spec.phases)} phases with tokens and an sla_p95")
    reasons.extend(problems)
    return Assertion(source, not reasons, reasons, facts)
