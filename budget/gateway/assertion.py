"""``budget assert``: a spec's compile-time checks, with no output file.

The checks are the compiler's own (``budget.model.spec``: fields, quotas, the quota
sum against ``daily_budget_tokens``, tier and phase names; ``budget.model.plan``: the
split against ``--expect-split`` or the spec's ``split``) plus the sanity of
each tier and phase: every tier gets tokens, every phase has tokens to work
with and declares its ``sla_p95`` (without one the keeper assumes 60 s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from budget.errors import BudgetError, UsageError
from budget.model import (
    BudgetSpec,
    load_spec,
    parse_split,
    proportion_check,
    proportion_line,
    split_parts,
    summary_line,
)

T = TypeVar("T")


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
    """The spec's checks; a ``--expect-split`` that is malformed or does not fit the spec's tiers is a UsageError."""
    source = str(path)
    if expect_split:
        _expected_split(lambda: split_parts(expect_split))  # its form is checked before the spec is read
    try:
        spec = load_spec(path)
    except BudgetError as exc:
        return Assertion(source, False, [str(exc)])
    reasons: list[str] = []
    facts = [summary_line(spec)]
    split = _expected_split(lambda: parse_split(expect_split, spec.tiers, tolerance)) if expect_split else None
    try:
        checks = proportion_check(spec, split)
        facts.append(proportion_line(checks))
        if checks[0].target_pct is not None:
            reasons.extend(
                f"split: {c.tier} has {c.share_pct:.2f}% of the day, target {c.target_pct:g}% ±{c.tolerance_pct:g} pt"
                for c in checks
                if not c.ok
            )
    except BudgetError as exc:
        reasons.append(str(exc))
    problems = sanity_problems(spec)
    if not problems:
        facts.append(f"{len(spec.tiers)} tiers with tokens; {len(spec.phases)} phases with tokens and an sla_p95")
    reasons.extend(problems)
    return Assertion(source, not reasons, reasons, facts)


def _expected_split(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except BudgetError as exc:
        raise UsageError(f"--expect-split: {exc}") from None
